#!/usr/bin/env python3
"""calculator plugin: {expression} -> value. Parses with ast and evaluates only arithmetic nodes."""
import ast
import json
import math
import operator
import sys

BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
FUNCTIONS = {
    "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos,
    "atan": math.atan, "log": math.log, "log2": math.log2, "log10": math.log10, "exp": math.exp, "abs": abs,
    "round": round, "floor": math.floor, "ceil": math.ceil, "min": min, "max": max, "factorial": math.factorial,
    "sum": lambda *xs: sum(xs), "mean": lambda *xs: mean(xs),
}
CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
MAX_INT_BITS = 4096


class CalcError(Exception):
    pass


def mean(values):
    if not values:
        raise CalcError("mean() needs at least one number")
    return sum(values) / len(values)


def check(value):
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise CalcError(f"result too large (more than {MAX_INT_BITS} bits)")
    return value


def evaluate(node):
    if isinstance(node, ast.Expression):
        return evaluate(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise CalcError(f"unknown name '{node.id}': write the numbers themselves (the only names are "
                        f"{', '.join(CONSTANTS)})")
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        return UNARY[type(node.op)](evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        left, right = evaluate(node.left), evaluate(node.right)
        if isinstance(node.op, ast.Pow) and isinstance(right, (int, float)) and abs(right) > 10000 \
                and abs(left) not in (0, 1):
            raise CalcError("exponent too large")
        if isinstance(node.op, ast.Pow) and isinstance(left, int) and isinstance(right, int) and right > 0 \
                and left not in (0, 1, -1) and right * max(abs(left), 2).bit_length() > MAX_INT_BITS:
            raise CalcError(f"result too large (more than {MAX_INT_BITS} bits)")
        return check(BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS \
            and not node.keywords:
        args = [evaluate(a) for a in node.args]
        if node.func.id == "factorial" and args and isinstance(args[0], int) and args[0] > 500:
            raise CalcError("factorial argument too large (at most 500)")
        return check(FUNCTIONS[node.func.id](*args))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in FUNCTIONS:
        raise CalcError(f"unknown function '{node.func.id}' (the functions are {', '.join(FUNCTIONS)})")
    raise CalcError(f"unsupported syntax: {ast.dump(node)[:80]}")


def main():
    args = json.load(sys.stdin)
    expression = args["expression"]
    if len(expression) > 1000:
        sys.exit("expression too long (at most 1000 characters)")
    try:
        value = evaluate(ast.parse(expression, mode="eval"))
    except SyntaxError as e:
        left = expression.split("=")[0].strip()
        if "=" in expression and left and "==" not in expression:
            sys.exit(f"syntax error: write only the expression, without '=' and a result (for example: {left})")
        sys.exit(f"syntax error: {e.msg}")
    except ZeroDivisionError:
        sys.exit("division by zero")
    except (CalcError, ValueError, OverflowError, TypeError) as e:
        sys.exit(f"cannot evaluate: {e}")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        print(repr(value))
    else:
        print(value)


if __name__ == "__main__":
    main()
