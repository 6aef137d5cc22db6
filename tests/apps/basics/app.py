import sys

from pkg.flow import countdown, fib, handle, login
from pkg.shapes import Shape, Square, total_area


def main(argv):
    shapes = [Square(2), Square(3), Shape.make("blob")]
    print("area", total_area(shapes), Shape.unit())
    print("describe", shapes[0].describe())
    print("handled", handle([1, -1, 2]))
    print("countdown", list(countdown(3)))
    print("fib", fib(5))
    print("login", login("ada", "hunter2-secret", api_token="tok_live_123456")["ok"])
    print("argv", argv)
    print("name", __name__)
    print("path0", sys.path[0])
    if argv and argv[0] == "fail":
        raise RuntimeError("boom on purpose")
    if argv and argv[0] == "exit":
        sys.exit(int(argv[1]) if argv[1].isdigit() else argv[1])


if __name__ == "__main__":
    main(sys.argv[1:])
