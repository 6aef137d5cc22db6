/* d[key] = d.get(key, 0) + n: the one "count += n" on a dict of counts, shared by the C hooks (a raise
 * counted on its edge, capture/_speedups.c unwind_core; a checkpoint's rows, checkpoint_fold) and the
 * decoder's counted calls (events/_decode.c count_add). d is an exact dict (a defaultdict's __missing__ is
 * never called: a missing key starts at 0, as .get(key, 0) does); n is an int. 0, or -1 with an exception set. */
#ifndef SKELETON_COUNTS_H
#define SKELETON_COUNTS_H

#include <Python.h>

static inline int
sk_count_add(PyObject *d, PyObject *key, PyObject *n)
{
    PyObject *old = PyDict_GetItemWithError(d, key);  /* borrowed */
    if (old == NULL && PyErr_Occurred()) {
        return -1;
    }
    PyObject *sum = old == NULL ? Py_NewRef(n) : PyNumber_Add(old, n);
    if (sum == NULL) {
        return -1;
    }
    int r = PyDict_SetItem(d, key, sum);
    Py_DECREF(sum);
    return r;
}

#endif /* SKELETON_COUNTS_H */
