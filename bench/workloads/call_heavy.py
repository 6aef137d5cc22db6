"""Benchmark workload: millions of small project-local method calls.

An OOP particle simulation (package ``sim``: Vector.add/scale, Particle.apply/
step/bounce, World.tick).  Deterministic, standard library only.

    python bench/workloads/call_heavy.py --scale 1
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _timing import Stopwatch, parse_scale, report  # noqa: E402
from sim import World  # noqa: E402

PARTICLES = 200
# Calls per particle per tick: apply(1) + add(1) + scale(1) + Vector(2 inits)
# + step(1) + add(1) + scale(1) + bounce(1) = 11 (bounce adds a few more).
CALLS_PER_PARTICLE_TICK = 11


def main():
    scale = parse_scale(__doc__)
    ticks = max(1, int(round(900 * scale)))
    with Stopwatch() as sw:
        world = World(PARTICLES)
        for _ in range(ticks):
            world.tick(0.01)
        energy = world.energy()
    report(sw.seconds, workload="call_heavy", scale=scale, ticks=ticks,
           approx_calls=ticks * PARTICLES * CALLS_PER_PARTICLE_TICK + PARTICLES * ticks // 10,
           checksum=round(energy, 6))


if __name__ == "__main__":
    main()
