"""snapshot.json format_version history:
1  first version: run, stats, nodes (scenario/package/module/class/instance/function/method),
   aggregated call edges, module roll-up edges, compressed step columns.
"""

SNAPSHOT_FORMAT_VERSION = 1
