"""Real program for the scale audit: astroid parses and infers a module of classes and calls."""
import astroid

SRC = "\n".join(f"""
class C{k}:
    def __init__(self, x):
        self.x = x
    def double(self):
        return self.x * 2
def make{k}(v):
    return C{k}(v).double()
r{k} = make{k}({k})
""" for k in range(25))
module = astroid.parse(SRC)
for node in module.nodes_of_class(astroid.nodes.Call):
    try:
        list(node.infer())
    except astroid.InferenceError:
        pass
print(len(list(module.nodes_of_class(astroid.nodes.Name))))
