/* The I/O boundaries' audit hook in C (optional: capture/boundaries.py falls back to a Python hook).
 *
 * CPython calls every audit hook for every audited operation of the process, for the rest of its life
 * (a hook cannot be removed), and a Python-level hook is a Python call each time: ~0.4 us on every
 * id(), sys._getframe(), compile()... of the program and of Skeleton itself. This hook compares the
 * event name with the few events Skeleton records (no Python object made) and calls the Python handler
 * only for those, and only while a capture runs: install(None) detaches the handler.
 *
 * call_filter: the sys.monitoring CALL callback of the I/O probes (3.12+, boundaries.py). It fires once per
 * call site; any callable but the watched ones (print, a stream's write, sqlite3's execute...) gets DISABLE
 * there, without running Python. Callables are matched by their PyMethodDef (a method descriptor, and the
 * bound method made from it, share one), so `w = sys.stdout.write; w(s)` is seen too.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static PyObject *handler = NULL; /* callable(event, args), or NULL: detached */
static int installed = 0;

#define MAX_WATCHED 32
static PyObject *call_handler = NULL;  /* handler(code, offset, watched, receiver), or NULL */
static PyObject *disable = NULL;       /* sys.monitoring.DISABLE */
static PyObject *watched = NULL;       /* tuple of the watched callables (keeps their PyMethodDefs alive) */
static PyMethodDef *watched_ml[MAX_WATCHED];
static Py_ssize_t n_watched = 0;

static PyMethodDef *
method_def(PyObject *o)
{
    if (PyCFunction_Check(o)) {
        return ((PyCFunctionObject *)o)->m_ml;
    }
    if (Py_IS_TYPE(o, &PyMethodDescr_Type)) {
        return ((PyMethodDescrObject *)o)->d_method;
    }
    return NULL;
}

/* Keep in step with boundaries.EVENTS (tests/test_boundaries.py compares them). */
static const char *const events[] = {
    "open", "os.remove", "os.rename", "os.mkdir", "os.rmdir", "os.listdir", "os.scandir",
    "shutil.rmtree", "shutil.copyfile", "socket.connect", "http.client.connect", "urllib.Request",
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "sqlite3.connect",
    "sqlite3.connect/handle", NULL,
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

static PyObject *
call_filter(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs < 4) {
        Py_RETURN_NONE;
    }
    PyObject *h = call_handler;
    PyMethodDef *ml = method_def(args[2]);
    if (ml != NULL && h != NULL) {
        for (Py_ssize_t i = 0; i < n_watched; i++) {
            if (watched_ml[i] == ml) {
                PyObject *me = args[3];
                if (PyCFunction_Check(args[2])) {
                    me = PyCFunction_GET_SELF(args[2]);  /* a bound method: its receiver */
                    if (me == NULL) {
                        me = Py_None;
                    }
                }
                PyObject *w = PyTuple_GET_ITEM(watched, i);
                Py_INCREF(h);
                Py_INCREF(w);
                Py_INCREF(me);
                PyObject *r = PyObject_CallFunctionObjArgs(h, args[0], args[1], w, me, NULL);
                Py_DECREF(me);
                Py_DECREF(w);
                Py_DECREF(h);
                if (r == NULL) {
                    return NULL; /* the program's exception: the handler contains its own */
                }
                Py_DECREF(r);
                Py_RETURN_NONE; /* a watched site keeps firing */
            }
        }
    }
    if (disable == NULL) {
        Py_RETURN_NONE;
    }
    return Py_NewRef(disable);
}

static PyObject *
calls(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *h, *d, *w;
    if (!PyArg_ParseTuple(args, "OOO!", &h, &d, &PyTuple_Type, &w)) {
        return NULL;
    }
    PyMethodDef *mls[MAX_WATCHED];
    Py_ssize_t n = 0;
    PyObject *list = PyList_New(0);
    if (list == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(w) && n < MAX_WATCHED; i++) {
        PyObject *o = PyTuple_GET_ITEM(w, i);
        PyMethodDef *ml = method_def(o);
        if (ml != NULL) {
            if (PyList_Append(list, o) < 0) {
                Py_DECREF(list);
                return NULL;
            }
            mls[n++] = ml;
        }
    }
    PyObject *keep = PyList_AsTuple(list);
    Py_DECREF(list);
    if (keep == NULL) {
        return NULL;
    }
    n_watched = 0;
    memcpy(watched_ml, mls, sizeof(PyMethodDef *) * (size_t)n); /* (no callback runs between these lines: the GIL is held) */
    Py_XSETREF(watched, keep);
    Py_XSETREF(call_handler, h == Py_None ? NULL : Py_NewRef(h));
    Py_XSETREF(disable, d == Py_None ? NULL : Py_NewRef(d));
    n_watched = n;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"call_filter", (PyCFunction)(void (*)(void))call_filter, METH_FASTCALL,
     "call_filter(code, offset, callable, arg0): the CALL callback of the I/O probes."},
    {"calls", calls, METH_VARARGS,
     "calls(handler or None, DISABLE, watched callables): set what call_filter passes to handler."},
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
