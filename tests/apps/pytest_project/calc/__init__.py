from calc.ops import add, divide
from calc.calculator import Calculator

__all__ = ["Calculator", "add", "divide"]
