class Base:
    def __init__(self, name):
        self.name = name

    def describe(self):
        return self.name


class Item(Base):
    def __init__(self, name, price):
        super().__init__(name)
        self.price = price

    def cost(self):
        return self.price


class Cart:
    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)

    def total(self):
        return sum(i.cost() for i in self.items)


class Service:
    def __init__(self):
        self.made = 0

    def build(self, n):
        out = []
        for k in range(n):
            out.append(Item(f"i{k}", k))
        return out


DEFAULT = Cart()
DEFAULT.add(Item("default", 1))
