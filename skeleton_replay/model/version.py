"""snapshot.json format_version history:
1  first version: run, stats, nodes (scenario/package/module/class/instance/function/method),
   aggregated call edges, module roll-up edges, compressed step columns.
   Still 1 (nothing released yet): step columns may say "encoding": "delta" (call_id, t); readers prefix-sum
   them and refuse an encoding they do not know (model/steps.py decode(), report-ui decode.ts).
"""

SNAPSHOT_FORMAT_VERSION = 1
