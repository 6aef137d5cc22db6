"""Real program for the scale checks: 3,000 instances of one class (an instance group `Particle x3000` on the map)."""


class Particle:
    def __init__(self, k: int) -> None:
        self.x = float(k)

    def step(self, dt: float) -> float:
        self.x += dt
        return self.x

    def energy(self) -> float:
        return 0.5 * self.x


class Field:
    def __init__(self, n: int) -> None:
        self.particles = [Particle(k) for k in range(n)]

    def advance(self) -> float:
        return sum(p.step(0.1) for p in self.particles)

    def total_energy(self) -> float:
        return sum(p.energy() for p in self.particles)


field = Field(3000)
field.advance()
field.advance()
print(field.total_energy())
