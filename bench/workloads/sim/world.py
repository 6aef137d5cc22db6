from .particle import Particle
from .vector import Vector


class World:
    """Deterministic: positions come from a linear congruential generator."""

    def __init__(self, n, size=100.0, seed=12345):
        self.size = size
        self.gravity = Vector(0.0, -9.81)
        self.particles = []
        state = seed
        for i in range(n):
            state = (state * 1103515245 + 12345) & 0x7FFFFFFF
            x = (state % 10000) / 100.0
            state = (state * 1103515245 + 12345) & 0x7FFFFFFF
            y = (state % 10000) / 100.0
            self.particles.append(Particle(Vector(x, y), Vector(1.0, 0.5), 1.0 + i % 3))

    def tick(self, dt):
        g = self.gravity
        size = self.size
        for p in self.particles:
            p.apply(g, dt)
            p.step(dt)
            p.bounce(size)

    def energy(self):
        total = 0.0
        for p in self.particles:
            total += p.energy()
        return total
