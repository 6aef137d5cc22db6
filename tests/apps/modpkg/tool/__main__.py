import sys

from tool.core import greet


def main(argv):
    print(greet(argv[0] if argv else "nobody"), argv, __name__, sys.argv[0].endswith("__main__.py"))
    return 3 if "--fail" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
