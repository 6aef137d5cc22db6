/* The I/O boundaries' audit hook in C (optional: capture/boundaries.py falls back to a Python hook).
 *
 * CPython calls every audit hook for every audited operation of the process, for the rest of its life
 * (a hook cannot be removed), and a Python-level hook is a Python call each time: ~0.4 us on every
 * id(), sys._getframe(), compile()... of the program and of Skeleton itself. This hook compares the
 * event name with the few events Skeleton records (no Python object made) and calls the Python handler
 * only for those, and only while a capture runs: install(None) detaches the handler.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static PyObject *handler = NULL; /* callable(event, args), or NULL: detached */
static int installed = 0;

/* Keep in step with boundaries.EVENTS (tests/test_boundaries.py compares them). */
static const char *const events[] = {
    "open", "os.remove", "os.rename", "os.mkdir", "os.rmdir", "os.listdir", "os.scandir",
    "shutil.rmtree", "shutil.copyfile", "socket.connect", "http.client.connect", "urllib.Request",
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "sqlite3.connect", NULL,
};

static int
hook(const char *event, PyObject *args, void *data)
{
    (void)data;
    PyObject *h = handler;
    if (h == NULL || event == NULL) {
        return 0;
    }
    char c = event[0];
    if (c != 'o' && c != 's' && c != 'h' && c != 'u') {
        return 0;
    }
    for (const char *const *e = events; *e != NULL; e++) {
        if ((*e)[0] == c && strcmp(event, *e) == 0) {
            PyObject *name = PyUnicode_FromString(event);
            if (name == NULL) {
                return -1;
            }
            Py_INCREF(h);
            PyObject *r = PyObject_CallFunctionObjArgs(h, name, args, NULL);
            Py_DECREF(h);
            Py_DECREF(name);
            if (r == NULL) {
                return -1; /* only the program's exceptions get here: the handler contains its own */
            }
            Py_DECREF(r);
            return 0;
        }
    }
    return 0;
}

static PyObject *
install(PyObject *self, PyObject *callable)
{
    (void)self;
    if (!installed) {
        if (PySys_AddAuditHook(hook, NULL) < 0) {
            return NULL;
        }
        installed = 1;
    }
    PyObject *old = handler;
    if (callable == Py_None) {
        handler = NULL;
    }
    else {
        Py_INCREF(callable);
        handler = callable;
    }
    Py_XDECREF(old);
    Py_RETURN_NONE;
}

static PyObject *
event_names(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    for (const char *const *e = events; *e != NULL; e++) {
        PyObject *s = PyUnicode_FromString(*e);
        if (s == NULL || PyList_Append(out, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(s);
    }
    return out;
}

static PyMethodDef methods[] = {
    {"install", install, METH_O, "install(handler or None): attach (adding the hook once) or detach."},
    {"event_names", event_names, METH_NOARGS, "The events passed to the handler."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_audit", "Skeleton's I/O boundary audit hook in C.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__audit(void)
{
    return PyModule_Create(&module);
}
