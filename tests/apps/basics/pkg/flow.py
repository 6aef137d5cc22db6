class ValidationError(Exception):
    pass


def validate(value):
    if value < 0:
        raise ValidationError(f"negative: {value}")
    return value


def process(value):
    return validate(value) * 2


def handle(values):
    results = []
    for v in values:
        try:
            results.append(process(v))
        except ValidationError:
            results.append(None)
    return results


def countdown(n):
    while n > 0:
        yield n
        n -= 1


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def login(user, password, *, api_token=None):
    return {"user": user, "ok": bool(password)}
