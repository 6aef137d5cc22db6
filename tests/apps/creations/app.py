"""Who created whom: main builds Carts, a Service method builds Items (Item.__init__ calls
super().__init__: one creation each), shop.models' module body builds a Cart and an Item."""
import sys

from shop.models import Cart, Item, Service


def main(n):
    cart = Cart()
    svc = Service()
    for item in svc.build(n):
        cart.add(item)
    spare = Cart()
    spare.add(Item("x", 2))
    return cart.total() + spare.total()


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
