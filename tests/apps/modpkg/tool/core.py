def greet(name):
    return f"hi {name}"
