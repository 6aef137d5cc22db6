"""Hot loop demo: a tiny particle simulation that makes a lot of small method calls.

    python examples/hot_loop/app.py               # 400 steps, ~240k calls
    python examples/hot_loop/app.py --steps 4000  # ~2.4M calls

Useful for seeing how a tracer folds repeated calls and applies its event cap.
"""

from __future__ import annotations

import argparse


class Vector:
    __slots__ = ("x", "y")

    def __init__(self, x: float, y: float) -> None:
        self.x = x
        self.y = y

    def __add__(self, other: Vector) -> Vector:
        return Vector(self.x + other.x, self.y + other.y)

    def scaled(self, factor: float) -> Vector:
        return Vector(self.x * factor, self.y * factor)

    def length_sq(self) -> float:
        return self.x * self.x + self.y * self.y


class Particle:
    __slots__ = ("position", "velocity")

    def __init__(self, position: Vector, velocity: Vector) -> None:
        self.position = position
        self.velocity = velocity

    def step(self, gravity: Vector, dt: float) -> None:
        self.velocity = (self.velocity + gravity.scaled(dt)).scaled(0.999)  # drag
        self.position = self.position + self.velocity.scaled(dt)
        self.bounce()

    def bounce(self) -> None:
        if self.position.y < 0.0:
            self.position = Vector(self.position.x, -self.position.y)
            self.velocity = Vector(self.velocity.x, -self.velocity.y * 0.8)

    def energy(self) -> float:
        return 0.5 * self.velocity.length_sq() + 9.81 * self.position.y


class World:
    def __init__(self, count: int) -> None:
        # Deterministic starting grid instead of random positions.
        self.particles = [
            Particle(Vector(float(i % 5), 1.0 + i // 5), Vector(0.5 * (i % 3) - 0.5, 0.0))
            for i in range(count)
        ]
        self.gravity = Vector(0.0, -9.81)

    def step(self, dt: float) -> None:
        for particle in self.particles:
            particle.step(self.gravity, dt)

    def total_energy(self) -> float:
        return sum(p.energy() for p in self.particles)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A particle simulation with many small calls.")
    parser.add_argument("--steps", type=int, default=400, help="simulation steps (default 400)")
    parser.add_argument("--particles", type=int, default=50, help="particle count (default 50)")
    args = parser.parse_args(argv)

    world = World(args.particles)
    start = world.total_energy()
    for _ in range(args.steps):
        world.step(dt=0.01)
    end = world.total_energy()
    lowest = min(world.particles, key=lambda p: p.position.y)

    print(f"Hot loop: {args.particles} particles x {args.steps} steps")
    print(f"  energy {start:.3f} -> {end:.3f} ({100 * (end - start) / start:+.1f}%)")
    print(f"  lowest particle at ({lowest.position.x:.3f}, {lowest.position.y:.3f})")


if __name__ == "__main__":
    main()
