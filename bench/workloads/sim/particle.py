from .vector import Vector


class Particle:
    __slots__ = ("pos", "vel", "mass")

    def __init__(self, pos, vel, mass):
        self.pos = pos
        self.vel = vel
        self.mass = mass

    def apply(self, force, dt):
        self.vel = self.vel.add(force.scale(dt / self.mass))

    def step(self, dt):
        self.pos = self.pos.add(self.vel.scale(dt))
        # A little inline arithmetic (no calls): air drag on fast particles.
        v = self.vel
        speed_sq = v.x * v.x + v.y * v.y
        if speed_sq > 400.0:
            v.x = v.x * 0.98
            v.y = v.y * 0.98

    def bounce(self, size):
        p = self.pos
        if p.x < 0 or p.x > size:
            self.vel = Vector(-self.vel.x, self.vel.y)
        if p.y < 0 or p.y > size:
            self.vel = Vector(self.vel.x, -self.vel.y)

    def energy(self):
        return 0.5 * self.mass * self.vel.length_sq()
