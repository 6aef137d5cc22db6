/* The snapshot model's per-event loop in C (optional: model/build.py runs the same loop in Python).
 *
 * Aggregator.add_batch(builder, batch) does what SnapshotBuilder._add_batch_py does for a list of Event
 * tuples, with the hot state in C arrays: node and edge counters (calls, total/max ns, first/last seen,
 * example events), the scenario stats, the open calls, and the step columns (little-endian bytes, handed
 * to StepColumns.extend_columns). Everything rare calls the builder's Python methods, which keep the
 * Python state as the pure loop does: a new node (_new_callable), a new edge (_edge), a first sighting
 * (_first_seen), a new scenario (_scenario), an exception (_raised, _raised_past_cap), and the examples
 * (dicts appended to the nodes' and edges' lists). fold(builder) writes the C counters into the node,
 * edge and scenario dicts (build.py calls it before anything reads them); open_calls() hands the open
 * calls over when the rest of a run goes to Python.
 *
 * add_batch first checks the whole batch (13-field tuples, ints in range, bools, str or None scenario):
 * a batch it would not treat exactly like the Python loop (a hand-edited trace.jsonl) returns None before
 * touching anything, and build.py runs that batch and the rest of the run in Python.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "../_spread.h"

enum { CALL = 0, RETURN = 1, EXCEPTION = 2, YIELD = 3 };
enum { F_SEEN = 1, F_EXFULL = 2 };  /* node/edge flags: first_seen set; examples list full */
#define EP_BITS 13                  /* endpoint -> node index cache (direct-mapped, holds its keys) */
#define EP_SLOTS (1 << EP_BITS)
#define U32_TOP 4294967295LL

typedef struct {
    PyObject *ep;
    Py_ssize_t idx;
} EpSlot;

typedef struct {
    long long key;  /* -1: empty */
    Py_ssize_t ei;
    PyObject *example;  /* strong, or NULL */
} OpenSlot;

typedef struct {
    long long key;  /* src << 32 | dst; -1: empty */
    Py_ssize_t ei;
} EdgeSlot;

typedef struct {
    PyObject_HEAD
    long long node_examples, edge_examples, edge_summaries, unit;
    /* nodes (index = the builder's node index) */
    Py_ssize_t n_cap;
    long long *n_calls, *n_total, *n_max, *n_last;
    unsigned char *n_flags;
    /* edges */
    Py_ssize_t e_cap, e_known;  /* e_known: edges whose module edge was looked up */
    long long *e_count, *e_total, *e_max, *e_first, *e_last, *e_nev;
    unsigned char *e_flags;
    PyObject **e_medge;  /* the module edge dict (strong) or NULL: same module */
    /* scenarios */
    Py_ssize_t s_cap;
    long long *s_calls, *s_first, *s_last;
    EpSlot eps[EP_SLOTS];
    EdgeSlot *emap;
    Py_ssize_t emap_mask, emap_used;
    OpenSlot *omap;
    Py_ssize_t omap_mask, omap_used;
    int dirty;
} Agg;

/* The builder's state and methods, fetched once per batch (borrowed after fetch: held in `refs`). */
typedef struct {
    PyObject *nodes, *index, *edges, *edge_sc, *node_sc, *scen_stats, *top, *medges;
    PyObject *new_callable, *edge, *first_seen, *scenario, *raised, *raised_past_cap, *edge_index;
    Py_ssize_t scen_node;
} B;
#define NREFS 16  /* the builder attributes get_b fetches */

static PyObject *s_id, *s_source, *s_target, *s_kind, *s_call, *s_raised_key;
static PyObject *s_node_id, *s_first_seen, *s_examples, *s_example_events, *s_event, *s_args, *s_return_value,
    *s_yields, *s_type, *s_generator_exit, *s_call_count, *s_total_ns, *s_max_ns, *s_count, *s_last_seen,
    *s_calls, *s_first_event, *s_last_event, *s_last_seen_attr;

/* ------------------------------------------------------------------ arrays */

static int
grow_ll(long long **a, Py_ssize_t old, Py_ssize_t cap, int fill)
{
    long long *p = PyMem_Realloc(*a, (size_t)cap * sizeof(long long));
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(p + old, fill, (size_t)(cap - old) * sizeof(long long));
    *a = p;
    return 0;
}

static int
grow_uc(unsigned char **a, Py_ssize_t old, Py_ssize_t cap)
{
    unsigned char *p = PyMem_Realloc(*a, (size_t)cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(p + old, 0, (size_t)(cap - old));
    *a = p;
    return 0;
}

static Py_ssize_t
new_cap(Py_ssize_t cap, Py_ssize_t need)
{
    Py_ssize_t c = cap ? cap : 256;
    while (c < need) {
        c *= 2;
    }
    return c;
}

static int
ensure_nodes(Agg *a, Py_ssize_t need)
{
    if (need <= a->n_cap) {
        return 0;
    }
    Py_ssize_t old = a->n_cap, cap = new_cap(old, need);
    if (grow_ll(&a->n_calls, old, cap, 0) || grow_ll(&a->n_total, old, cap, 0) || grow_ll(&a->n_max, old, cap, 0)
        || grow_ll(&a->n_last, old, cap, 0xff) || grow_uc(&a->n_flags, old, cap)) {
        return -1;
    }
    a->n_cap = cap;
    return 0;
}

static int
ensure_edges(Agg *a, Py_ssize_t need)
{
    if (need <= a->e_cap) {
        return 0;
    }
    Py_ssize_t old = a->e_cap, cap = new_cap(old, need);
    if (grow_ll(&a->e_count, old, cap, 0) || grow_ll(&a->e_total, old, cap, 0) || grow_ll(&a->e_max, old, cap, 0)
        || grow_ll(&a->e_first, old, cap, 0xff) || grow_ll(&a->e_last, old, cap, 0xff)
        || grow_ll(&a->e_nev, old, cap, 0) || grow_uc(&a->e_flags, old, cap)) {
        return -1;
    }
    PyObject **m = PyMem_Realloc(a->e_medge, (size_t)cap * sizeof(PyObject *));
    if (m == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(m + old, 0, (size_t)(cap - old) * sizeof(PyObject *));
    a->e_medge = m;
    a->e_cap = cap;
    return 0;
}

static int
ensure_scen(Agg *a, Py_ssize_t need)
{
    if (need <= a->s_cap) {
        return 0;
    }
    Py_ssize_t old = a->s_cap, cap = new_cap(old, need);
    if (grow_ll(&a->s_calls, old, cap, 0) || grow_ll(&a->s_first, old, cap, 0xff)
        || grow_ll(&a->s_last, old, cap, 0xff)) {
        return -1;
    }
    a->s_cap = cap;
    return 0;
}

/* ------------------------------------------------------------------ hash maps */

static inline size_t
mix(long long k)
{
    uint64_t x = (uint64_t)k * 0x9E3779B97F4A7C15ULL;
    return (size_t)(x ^ (x >> 29));
}

static Py_ssize_t
emap_get(Agg *a, long long key)
{
    size_t i = mix(key) & (size_t)a->emap_mask;
    while (a->emap[i].key != -1) {
        if (a->emap[i].key == key) {
            return a->emap[i].ei;
        }
        i = (i + 1) & (size_t)a->emap_mask;
    }
    return -1;
}

static int
emap_put(Agg *a, long long key, Py_ssize_t ei)
{
    if ((a->emap_used + 1) * 2 > a->emap_mask + 1) {
        Py_ssize_t size = (a->emap_mask + 1) * 2;
        EdgeSlot *old = a->emap, *m = PyMem_Malloc((size_t)size * sizeof(EdgeSlot));
        if (m == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < size; i++) {
            m[i].key = -1;
        }
        Py_ssize_t old_size = a->emap_mask + 1;
        a->emap = m;
        a->emap_mask = size - 1;
        for (Py_ssize_t i = 0; i < old_size; i++) {
            if (old[i].key != -1) {
                size_t j = mix(old[i].key) & (size_t)a->emap_mask;
                while (m[j].key != -1) {
                    j = (j + 1) & (size_t)a->emap_mask;
                }
                m[j] = old[i];
            }
        }
        PyMem_Free(old);
    }
    size_t i = mix(key) & (size_t)a->emap_mask;
    while (a->emap[i].key != -1 && a->emap[i].key != key) {
        i = (i + 1) & (size_t)a->emap_mask;
    }
    if (a->emap[i].key == -1) {
        a->emap_used++;
    }
    a->emap[i].key = key;
    a->emap[i].ei = ei;
    return 0;
}

static Py_ssize_t
omap_find(Agg *a, long long key)
{
    size_t i = mix(key) & (size_t)a->omap_mask;
    while (a->omap[i].key != -1) {
        if (a->omap[i].key == key) {
            return (Py_ssize_t)i;
        }
        i = (i + 1) & (size_t)a->omap_mask;
    }
    return -1;
}

/* Insert or replace; steals `example` (may be NULL). */
static int
omap_put(Agg *a, long long key, Py_ssize_t ei, PyObject *example)
{
    if ((a->omap_used + 1) * 2 > a->omap_mask + 1) {
        Py_ssize_t size = (a->omap_mask + 1) * 2, old_size = a->omap_mask + 1;
        OpenSlot *old = a->omap, *m = PyMem_Malloc((size_t)size * sizeof(OpenSlot));
        if (m == NULL) {
            Py_XDECREF(example);
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < size; i++) {
            m[i].key = -1;
        }
        a->omap = m;
        a->omap_mask = size - 1;
        for (Py_ssize_t i = 0; i < old_size; i++) {
            if (old[i].key != -1) {
                size_t j = mix(old[i].key) & (size_t)a->omap_mask;
                while (m[j].key != -1) {
                    j = (j + 1) & (size_t)a->omap_mask;
                }
                m[j] = old[i];
            }
        }
        PyMem_Free(old);
    }
    size_t i = mix(key) & (size_t)a->omap_mask;
    while (a->omap[i].key != -1 && a->omap[i].key != key) {
        i = (i + 1) & (size_t)a->omap_mask;
    }
    if (a->omap[i].key == -1) {
        a->omap_used++;
        a->omap[i].key = key;
        a->omap[i].ei = ei;
        a->omap[i].example = example;
    }
    else {
        PyObject *prev = a->omap[i].example;
        a->omap[i].ei = ei;
        a->omap[i].example = example;
        Py_XDECREF(prev);
    }
    return 0;
}

/* Remove slot i (backward-shift deletion); the caller took the example's reference. */
static void
omap_del(Agg *a, Py_ssize_t slot)
{
    size_t mask = (size_t)a->omap_mask, i = (size_t)slot, j = i;
    a->omap_used--;
    for (;;) {
        j = (j + 1) & mask;
        if (a->omap[j].key == -1) {
            break;
        }
        size_t home = mix(a->omap[j].key) & mask;
        /* move j back to i unless its home lies cyclically in (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
            a->omap[i] = a->omap[j];
            i = j;
        }
    }
    a->omap[i].key = -1;
    a->omap[i].example = NULL;
}

/* ------------------------------------------------------------------ helpers */

/* o (an exact int, checked by the caller) as a long long; -1 when it does not fit (or an error). */
static inline int
as_ll(PyObject *o, long long *out)
{
    /* an exact int of one digit (most orders, depths, threads): read in place */
#if PY_VERSION_HEX >= 0x030C0000
    if (PyUnstable_Long_IsCompact((PyLongObject *)o)) {
        *out = (long long)PyUnstable_Long_CompactValue((PyLongObject *)o);
        return 0;
    }
#else
    Py_ssize_t size = Py_SIZE(o);
    if (size >= -1 && size <= 1) {
        *out = size * (long long)((PyLongObject *)o)->ob_digit[0];
        return 0;
    }
#endif
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) {
        return -1;
    }
    *out = v;
    return 0;
}

static PyObject *
ll(long long v)
{
    return PyLong_FromLongLong(v);
}

/* d[key] = d[key] + delta (ints) */
static int
dict_add(PyObject *d, PyObject *key, long long delta)
{
    PyObject *v = PyDict_GetItemWithError(d, key);
    if (v == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetObject(PyExc_KeyError, key);
        }
        return -1;
    }
    PyObject *dv = ll(delta);
    if (dv == NULL) {
        return -1;
    }
    PyObject *sum = PyNumber_Add(v, dv);
    Py_DECREF(dv);
    if (sum == NULL) {
        return -1;
    }
    int r = PyDict_SetItem(d, key, sum);
    Py_DECREF(sum);
    return r;
}

static int
dict_set_ll(PyObject *d, PyObject *key, long long v)
{
    PyObject *o = ll(v);
    if (o == NULL) {
        return -1;
    }
    int r = PyDict_SetItem(d, key, o);
    Py_DECREF(o);
    return r;
}

/* d[key] (borrowed) or NULL with KeyError */
static PyObject *
item(PyObject *d, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(d, key);
    if (v == NULL && !PyErr_Occurred()) {
        PyErr_SetObject(PyExc_KeyError, key);
    }
    return v;
}

static PyObject *
node_dict(B *b, Py_ssize_t i)
{
    if (i < 0 || i >= PyList_GET_SIZE(b->nodes)) {
        PyErr_SetString(PyExc_IndexError, "node index out of range");
        return NULL;
    }
    PyObject *n = PyList_GET_ITEM(b->nodes, i);
    if (!PyDict_Check(n)) {
        PyErr_SetString(PyExc_TypeError, "a node is not a dict");
        return NULL;
    }
    return n;
}

static PyObject *
edge_dict(B *b, Py_ssize_t i)
{
    if (i < 0 || i >= PyList_GET_SIZE(b->edges)) {
        PyErr_SetString(PyExc_IndexError, "edge index out of range");
        return NULL;
    }
    PyObject *e = PyList_GET_ITEM(b->edges, i);
    if (!PyDict_Check(e)) {
        PyErr_SetString(PyExc_TypeError, "an edge is not a dict");
        return NULL;
    }
    return e;
}

static Py_ssize_t
call_index(PyObject *fn, PyObject *arg)
{
    PyObject *r = PyObject_CallOneArg(fn, arg);
    if (r == NULL) {
        return -1;
    }
    Py_ssize_t i = PyLong_AsSsize_t(r);
    Py_DECREF(r);
    return i;
}

/* The node index of endpoint ep, made by the builder's _new_callable when new. */
static Py_ssize_t
node_of(Agg *a, B *b, PyObject *ep)
{
    EpSlot *s = &a->eps[sk_spread((uintptr_t)ep, EP_BITS)];
    if (s->ep == ep) {
        return s->idx;
    }
    PyObject *nid = PyObject_GetAttr(ep, s_node_id);
    if (nid == NULL) {
        return -1;
    }
    PyObject *found = PyDict_GetItemWithError(b->index, nid);
    Py_DECREF(nid);
    Py_ssize_t i;
    if (found != NULL) {
        i = PyLong_AsSsize_t(found);
    }
    else if (PyErr_Occurred()) {
        return -1;
    }
    else {
        i = call_index(b->new_callable, ep);
    }
    if (i < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "negative node index");
        }
        return -1;
    }
    if (ensure_nodes(a, PyList_GET_SIZE(b->nodes)) < 0 || i >= a->n_cap) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_IndexError, "node index out of range");
        }
        return -1;
    }
    PyObject *old = s->ep;
    s->ep = Py_NewRef(ep);
    s->idx = i;
    Py_XDECREF(old);
    return i;
}

/* d[k] = v, v stolen (NULL: an error already set) */
static int
set_new(PyObject *d, PyObject *k, PyObject *v)
{
    if (v == NULL) {
        return -1;
    }
    int r = PyDict_SetItem(d, k, v);
    Py_DECREF(v);
    return r;
}

#define EDGE_KEYS 12 /* an edge dict's keys (make_edge) */

/* f"{s}->{d}" for two str (new reference): PyUnicode_FromFormat parses its format for each of tens of thousands
   of edges. */
static PyObject *
edge_id(PyObject *s, PyObject *d)
{
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(s) < 0 || PyUnicode_READY(d) < 0) {  /* a legacy string (3.11) */
        return NULL;
    }
#endif
    Py_ssize_t ns = PyUnicode_GET_LENGTH(s), nd = PyUnicode_GET_LENGTH(d);
    Py_UCS4 ms = PyUnicode_MAX_CHAR_VALUE(s), md = PyUnicode_MAX_CHAR_VALUE(d);
    PyObject *out = PyUnicode_New(ns + 2 + nd, ms > md ? ms : md);
    if (out == NULL) {
        return NULL;
    }
    if (PyUnicode_CopyCharacters(out, 0, s, 0, ns) < 0 || PyUnicode_WriteChar(out, ns, '-') < 0
            || PyUnicode_WriteChar(out, ns + 1, '>') < 0 || PyUnicode_CopyCharacters(out, ns + 2, d, 0, nd) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* SnapshotBuilder._edge(src, dst, order) in C: the edge's index, its dict (same keys, same order), its
   scenario list and its module edge made when new. The builder's own _edge where a node id is not a str. */
static Py_ssize_t
make_edge(B *b, Py_ssize_t src, Py_ssize_t dst, PyObject *order)
{
    PyObject *sn = node_dict(b, src), *dn = sn == NULL ? NULL : node_dict(b, dst);
    PyObject *s = dn == NULL ? NULL : item(sn, s_id), *d = s == NULL ? NULL : item(dn, s_id);
    if (d == NULL) {
        return -1;
    }
    if (!PyUnicode_CheckExact(s) || !PyUnicode_CheckExact(d) || !PyLong_CheckExact(order)) {
        PyObject *r = PyObject_CallFunction(b->edge, "nnO", src, dst, order);
        if (r == NULL) {
            return -1;
        }
        Py_ssize_t ei = PyLong_AsSsize_t(r);
        Py_DECREF(r);
        return ei;
    }
    PyObject *ks = PyLong_FromSsize_t(src), *kd = ks != NULL ? PyLong_FromSsize_t(dst) : NULL;
    PyObject *key = kd != NULL ? PyTuple_Pack(2, ks, kd) : NULL;
    Py_XDECREF(ks);
    Py_XDECREF(kd);
    if (key == NULL) {
        return -1;
    }
    PyObject *found = PyDict_GetItemWithError(b->edge_index, key);
    if (found != NULL || PyErr_Occurred()) {
        Py_DECREF(key);
        return found == NULL ? -1 : PyLong_AsSsize_t(found);
    }
    Py_ssize_t ei = PyList_GET_SIZE(b->edges);
    PyObject *e = _PyDict_NewPresized(EDGE_KEYS);  /* its size from the start: no resize on the way */
    int err = e == NULL || set_new(b->edge_index, key, PyLong_FromSsize_t(ei)) < 0
              || set_new(e, s_id, edge_id(s, d)) < 0 || PyDict_SetItem(e, s_source, s) < 0
              || PyDict_SetItem(e, s_target, d) < 0 || PyDict_SetItem(e, s_kind, s_call) < 0
              || set_new(e, s_count, PyLong_FromLong(0)) < 0 || PyDict_SetItem(e, s_first_seen, Py_None) < 0
              || PyDict_SetItem(e, s_last_seen, Py_None) < 0 || set_new(e, s_total_ns, PyLong_FromLong(0)) < 0
              || set_new(e, s_max_ns, PyLong_FromLong(0)) < 0 || set_new(e, s_raised_key, PyLong_FromLong(0)) < 0
              || set_new(e, s_example_events, PyList_New(0)) < 0 || set_new(e, s_examples, PyList_New(0)) < 0
              || PyList_Append(b->edges, e) < 0;
    Py_DECREF(key);
    Py_XDECREF(e);
    PyObject *sl = err ? NULL : PyList_New(0);
    if (sl == NULL || PyList_Append(b->edge_sc, sl) < 0) {
        Py_XDECREF(sl);
        return -1;
    }
    Py_DECREF(sl);
    if (src >= PyList_GET_SIZE(b->top) || dst >= PyList_GET_SIZE(b->top)) {
        PyErr_SetString(PyExc_IndexError, "node index out of range");
        return -1;
    }
    PyObject *ms = PyList_GET_ITEM(b->top, src), *md = PyList_GET_ITEM(b->top, dst);
    int ne = PyObject_RichCompareBool(ms, md, Py_NE);
    if (ne <= 0) {
        return ne < 0 ? -1 : ei;
    }
    PyObject *mk = PyTuple_Pack(2, ms, md);
    if (mk == NULL) {
        return -1;
    }
    PyObject *me = PyDict_GetItemWithError(b->medges, mk);
    if (me == NULL && !PyErr_Occurred()) {
        PyObject *zero = PyLong_FromLong(0);
        int neg = zero == NULL ? -1 : PyObject_RichCompareBool(order, zero, Py_LT);
        Py_XDECREF(zero);
        if (neg < 0) {
            Py_DECREF(mk);
            return -1;
        }
        me = PyDict_New();
        err = me == NULL || PyDict_SetItem(me, s_source, ms) < 0 || PyDict_SetItem(me, s_target, md) < 0
              || set_new(me, s_count, PyLong_FromLong(0)) < 0
              || PyDict_SetItem(me, s_first_seen, neg ? Py_None : order) < 0 || PyDict_SetItem(b->medges, mk, me) < 0;
        Py_XDECREF(me);
        Py_DECREF(mk);
        return err ? -1 : ei;
    }
    Py_DECREF(mk);
    return PyErr_Occurred() ? -1 : ei;
}

/* The edge src -> dst: from the map, else the builder's _edge (which makes it when new). */
static Py_ssize_t
edge_of(Agg *a, B *b, Py_ssize_t src, Py_ssize_t dst, PyObject *order)
{
    long long key = ((long long)src << 32) | (long long)dst;
    Py_ssize_t ei = emap_get(a, key);
    if (ei >= 0) {
        return ei;
    }
    ei = make_edge(b, src, dst, order);
    if (ei < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "negative edge index");
        }
        return -1;
    }
    if (ensure_edges(a, PyList_GET_SIZE(b->edges)) < 0 || ei >= a->e_cap) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_IndexError, "edge index out of range");
        }
        return -1;
    }
    if (a->e_medge[ei] == NULL) {  /* the module edge it counts into, if it crosses modules */
        if (src >= PyList_GET_SIZE(b->top) || dst >= PyList_GET_SIZE(b->top)) {
            PyErr_SetString(PyExc_IndexError, "node index out of range");
            return -1;
        }
        PyObject *ms = PyList_GET_ITEM(b->top, src), *md = PyList_GET_ITEM(b->top, dst);
        int ne = PyObject_RichCompareBool(ms, md, Py_NE);
        if (ne < 0) {
            return -1;
        }
        if (ne) {
            PyObject *k = PyTuple_Pack(2, ms, md);
            if (k == NULL) {
                return -1;
            }
            PyObject *me = item(b->medges, k);
            Py_DECREF(k);
            if (me == NULL) {
                return -1;
            }
            a->e_medge[ei] = Py_NewRef(me);
        }
    }
    if (emap_put(a, key, ei) < 0) {
        return -1;
    }
    return ei;
}

/* A first sighting of node i (the builder marks it and its containers). */
static int
seen(Agg *a, B *b, Py_ssize_t i, PyObject *order)
{
    if (a->n_flags[i] & F_SEEN) {
        return 0;
    }
    PyObject *n = node_dict(b, i);
    if (n == NULL) {
        return -1;
    }
    PyObject *fs = item(n, s_first_seen);
    if (fs == NULL) {
        return -1;
    }
    if (fs == Py_None) {
        PyObject *r = PyObject_CallFunction(b->first_seen, "nO", i, order);
        if (r == NULL) {
            return -1;
        }
        Py_DECREF(r);
    }
    a->n_flags[i] |= F_SEEN;
    return 0;
}

/* Append scenario `cur` to list sl unless it is its last item. */
static int
note_scenario(PyObject *sl, PyObject *cur_obj, long long cur)
{
    Py_ssize_t n = PyList_GET_SIZE(sl);
    if (n) {
        long long last;
        PyObject *lo = PyList_GET_ITEM(sl, n - 1);
        if (PyLong_CheckExact(lo) && as_ll(lo, &last) == 0 && last == cur) {
            return 0;
        }
        int ne = PyObject_RichCompareBool(lo, cur_obj, Py_NE);
        if (ne <= 0) {
            return ne;
        }
    }
    return PyList_Append(sl, cur_obj);
}

/* type(detail) is dict and detail.get("type") == "GeneratorExit" */
/* a summary's JSON bytes: is it an exception summary of type GeneratorExit (events/types.closed)? */
static int
closes(const char *s, Py_ssize_t n)
{
    static const char head[] = "{\"type\":\"GeneratorExit\"";
    const Py_ssize_t h = (Py_ssize_t)sizeof(head) - 1;
    return n > h && memcmp(s, head, (size_t)h) == 0 && (s[h] == ',' || (s[h] == '}' && n == h + 1));
}

static int
closed(PyObject *detail)
{
    if (PyBytes_CheckExact(detail)) { /* its JSON (events/types.closed): "type" comes first */
        return closes(PyBytes_AS_STRING(detail), PyBytes_GET_SIZE(detail));
    }
    if (!PyDict_CheckExact(detail)) {
        return 0;
    }
    PyObject *t = PyDict_GetItemWithError(detail, s_type);
    if (t == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    return PyObject_RichCompareBool(t, s_generator_exit, Py_EQ);
}

/* A summary as the snapshot keeps it (new reference): its JSON bytes parsed by orjson.loads (events/types.summary);
   any other value as it is. Only the kept examples are parsed. */
static PyObject *loads_fn;  /* orjson.loads, imported on first use */

static PyObject *
parsed(PyObject *detail)
{
    if (!PyBytes_CheckExact(detail)) {
        return Py_NewRef(detail);
    }
    if (loads_fn == NULL) {
        PyObject *orjson = PyImport_ImportModule("orjson");
        if (orjson == NULL) {
            return NULL;
        }
        loads_fn = PyObject_GetAttrString(orjson, "loads");
        Py_DECREF(orjson);
        if (loads_fn == NULL) {
            return NULL;
        }
    }
    return PyObject_CallOneArg(loads_fn, detail);
}

/* The example of a recorded call with summarised arguments, kept by its node and/or edge (or NULL: none). */
static int
call_example(Agg *a, B *b, Py_ssize_t callee, Py_ssize_t ei, PyObject *order, PyObject *detail, PyObject **out)
{
    *out = NULL;
    if ((a->n_flags[callee] & F_EXFULL) && (a->e_flags[ei] & F_EXFULL)) {
        return 0;
    }
    PyObject *node = node_dict(b, callee), *edge = edge_dict(b, ei);
    if (node == NULL || edge == NULL) {
        return -1;
    }
    PyObject *nex = item(node, s_examples), *eex = item(edge, s_examples);
    if (nex == NULL || eex == NULL) {
        return -1;
    }
    if (!PyList_Check(nex) || !PyList_Check(eex)) {
        PyErr_SetString(PyExc_TypeError, "examples is not a list");
        return -1;
    }
    int want_node = PyList_GET_SIZE(nex) < a->node_examples, want_edge = PyList_GET_SIZE(eex) < a->edge_summaries;
    if (!want_node) {
        a->n_flags[callee] |= F_EXFULL;
    }
    if (!want_edge) {
        a->e_flags[ei] |= F_EXFULL;
    }
    if (!want_node && !want_edge) {
        return 0;
    }
    int truth = PyObject_IsTrue(detail);
    if (truth < 0) {
        return -1;
    }
    PyObject *args = truth ? parsed(detail) : PyDict_New();
    if (args == NULL) {
        return -1;
    }
    PyObject *ex = PyDict_New();
    if (ex == NULL || PyDict_SetItem(ex, s_event, order) < 0 || PyDict_SetItem(ex, s_args, args) < 0
        || (want_node && PyList_Append(nex, ex) < 0) || (want_edge && PyList_Append(eex, ex) < 0)) {
        Py_DECREF(args);
        Py_XDECREF(ex);
        return -1;
    }
    Py_DECREF(args);
    *out = ex;
    return 0;
}

/* ------------------------------------------------------------------ the batch */

/* An event's ints, read once (batch_ok) */
typedef struct {
    long long order, kind, cid, t, depth, thread, ns;  /* cid: the call_id, or the order when None */
    int has_cid;
} Ev;

/* Does the Python loop treat every event of the batch as this loop does? (no state touched) Fills ev. */
static int
batch_ok(PyObject *batch, Ev *ev)
{
    Py_ssize_t n = PyTuple_GET_SIZE(batch);
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *e = PyTuple_GET_ITEM(batch, k);
        if (!PyTuple_Check(e) || PyTuple_GET_SIZE(e) != 13) {
            return 0;
        }
        PyObject **f = &PyTuple_GET_ITEM(e, 0);
        long long order, kind, t, depth, thread, ns, cid = 0;
        if (!PyLong_CheckExact(f[0]) || !PyLong_CheckExact(f[1]) || !PyLong_CheckExact(f[3])
            || !PyLong_CheckExact(f[4]) || !PyLong_CheckExact(f[5]) || !PyLong_CheckExact(f[11])
            || !(f[2] == Py_None || PyLong_CheckExact(f[2])) || !PyBool_Check(f[9])
            || !(f[12] == Py_None || PyUnicode_CheckExact(f[12])) || f[7] == Py_None) {
            return 0;
        }
        if (as_ll(f[0], &order) || as_ll(f[1], &kind) || as_ll(f[3], &t) || as_ll(f[4], &depth)
            || as_ll(f[5], &thread) || as_ll(f[11], &ns) || (f[2] != Py_None && as_ll(f[2], &cid))) {
            PyErr_Clear();
            return 0;
        }
        if (f[2] == Py_None) {
            cid = order;  /* the step's call_id column then holds its own order */
        }
        if (order >= 0 && (kind < 0 || kind > 255 || t < 0 || depth < 0 || thread < 0 || cid < 0 || cid > U32_TOP)) {
            return 0;  /* the Python columns raise for these: let them */
        }
        if (kind == CALL && depth == LLONG_MAX) {
            return 0;
        }
        ev[k] = (Ev){order, kind, cid, t, depth, thread, ns, f[2] != Py_None};
    }
    return 1;
}

static inline void
put16(unsigned char *p, long long v)
{
    uint32_t x = (uint32_t)(v < 65535 ? v : 65535);
    p[0] = (unsigned char)x;
    p[1] = (unsigned char)(x >> 8);
}

static inline void
put32(unsigned char *p, uint32_t x)
{
    p[0] = (unsigned char)x;
    p[1] = (unsigned char)(x >> 8);
    p[2] = (unsigned char)(x >> 16);
    p[3] = (unsigned char)(x >> 24);
}

static const int widths[7] = {1, 4, 4, 2, 2, 4, 4};  /* kind node edge thread depth call_id t */

static PyObject *
get_b(PyObject *builder, B *b, PyObject **refs)
{
    static const char *names[] = {"nodes", "index", "edges", "_edge_sc", "_node_sc", "_scen_stats",
                                  "_top_module", "module_edges", "_new_callable", "_edge", "_first_seen",
                                  "_scenario", "_raised", "_raised_past_cap", "scenario", "edge_index"};
    for (int i = 0; i < NREFS; i++) {
        refs[i] = PyObject_GetAttrString(builder, names[i]);
        if (refs[i] == NULL) {
            return NULL;
        }
    }
    b->nodes = refs[0], b->index = refs[1], b->edges = refs[2], b->edge_sc = refs[3], b->node_sc = refs[4];
    b->scen_stats = refs[5], b->top = refs[6], b->medges = refs[7], b->new_callable = refs[8], b->edge = refs[9];
    b->first_seen = refs[10], b->scenario = refs[11], b->raised = refs[12], b->raised_past_cap = refs[13];
    b->edge_index = refs[15];
    if (!PyDict_CheckExact(b->edge_index) || !PyList_CheckExact(b->nodes) || !PyDict_CheckExact(b->index) || !PyList_CheckExact(b->edges)
        || !PyList_CheckExact(b->edge_sc) || !PyDict_CheckExact(b->node_sc) || !PyList_CheckExact(b->scen_stats)
        || !PyList_CheckExact(b->top) || !PyDict_CheckExact(b->medges)) {
        PyErr_SetString(PyExc_TypeError, "Aggregator: not a SnapshotBuilder");
        return NULL;
    }
    b->scen_node = PyLong_AsSsize_t(refs[14]);
    if (b->scen_node < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "Aggregator: bad scenario node");
        }
        return NULL;
    }
    return Py_None;
}

static PyObject *run_batch(Agg *a, B *b, PyObject *batch, const Ev *ev, long long max_depth);  /* batch: a tuple */

static PyObject *
Agg_add_batch(Agg *a, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "add_batch(builder, batch: list)");
        return NULL;
    }
    /* a tuple: the events cannot change under the loop while it calls Python */
    PyObject *events = PyList_AsTuple(args[1]);
    if (events == NULL) {
        return NULL;
    }
    Ev *ev = PyMem_Malloc((size_t)(PyTuple_GET_SIZE(events) + 1) * sizeof(Ev));
    if (ev == NULL) {
        Py_DECREF(events);
        return PyErr_NoMemory();
    }
    if (!batch_ok(events, ev)) {
        PyMem_Free(ev);
        Py_DECREF(events);
        Py_RETURN_NONE;
    }
    PyObject *refs[NREFS] = {NULL};
    B b;
    PyObject *r = NULL;
    if (get_b(args[0], &b, refs) != NULL && ensure_nodes(a, PyList_GET_SIZE(b.nodes)) == 0
        && ensure_edges(a, PyList_GET_SIZE(b.edges)) == 0 && ensure_scen(a, PyList_GET_SIZE(b.scen_stats)) == 0) {
        PyObject *md = PyObject_GetAttrString(args[0], "max_depth");
        long long max_depth = md == NULL ? -1 : PyLong_AsLongLong(md);
        Py_XDECREF(md);
        if (!(max_depth == -1 && PyErr_Occurred())) {
            a->dirty = 1;
            r = run_batch(a, &b, events, ev, max_depth);
        }
    }
    for (int i = 0; i < NREFS; i++) {
        Py_XDECREF(refs[i]);
    }
    PyMem_Free(ev);
    Py_DECREF(events);
    return r;
}

static PyObject *
run_batch(Agg *a, B *b, PyObject *batch, const Ev *ev, long long max_depth)
{
    Py_ssize_t n = PyTuple_GET_SIZE(batch);
    PyObject *cols[7] = {NULL};
    unsigned char *out[7];
    PyObject *result = NULL, *cur_name = Py_NewRef(Py_None), *cur_obj = NULL, *last_t = Py_None;
    long long cur = -1, calls = 0;
    Py_ssize_t count = 0;
    for (int c = 0; c < 7; c++) {
        cols[c] = PyByteArray_FromStringAndSize(NULL, n * widths[c]);
        if (cols[c] == NULL) {
            goto done;
        }
        out[c] = (unsigned char *)PyByteArray_AS_STRING(cols[c]);
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject **f = &PyTuple_GET_ITEM(PyTuple_GET_ITEM(batch, k), 0);
        PyObject *order_o = f[0], *detail = f[8], *sname = f[12];
        const Ev *v = &ev[k];
        long long order = v->order, kind = v->kind, depth = v->depth, ns = v->ns;
        if (sname != cur_name) {
            int ne = PyObject_RichCompareBool(sname, cur_name, Py_NE);
            if (ne < 0) {
                goto done;
            }
            Py_SETREF(cur_name, Py_NewRef(sname));
            if (ne && sname != Py_None) {
                Py_XDECREF(cur_obj);
                cur_obj = PyObject_CallOneArg(b->scenario, sname);
                if (cur_obj == NULL) {
                    goto done;
                }
                cur = PyLong_AsLongLong(cur_obj);
                if (cur < 0 || ensure_scen(a, PyList_GET_SIZE(b->scen_stats)) < 0 || cur >= a->s_cap) {
                    if (!PyErr_Occurred()) {
                        PyErr_SetString(PyExc_IndexError, "scenario index out of range");
                    }
                    goto done;
                }
            }
        }
        Py_ssize_t callee = node_of(a, b, f[7]), ei = -1;
        if (callee < 0) {
            goto done;
        }
        if (kind == CALL) {
            calls++;
            Py_ssize_t src = f[6] == Py_None ? b->scen_node : node_of(a, b, f[6]);
            if (src < 0) {
                goto done;
            }
            ei = edge_of(a, b, src, callee, order_o);
            if (ei < 0) {
                goto done;
            }
            a->e_count[ei]++;
            a->n_calls[callee]++;
            if (depth >= max_depth) {
                max_depth = depth + 1;
            }
            if (sname != Py_None) {
                a->s_calls[cur]++;
                if (ei >= PyList_GET_SIZE(b->edge_sc) || !PyList_Check(PyList_GET_ITEM(b->edge_sc, ei))) {
                    PyErr_SetString(PyExc_IndexError, "edge scenario list missing");
                    goto done;
                }
                if (note_scenario(PyList_GET_ITEM(b->edge_sc, ei), cur_obj, cur) < 0) {
                    goto done;
                }
                PyObject *key = PyLong_FromSsize_t(callee);
                if (key == NULL) {
                    goto done;
                }
                PyObject *nl = PyDict_GetItemWithError(b->node_sc, key);
                int r = 0;
                if (nl == NULL) {
                    if (PyErr_Occurred()) {
                        r = -1;
                    }
                    else {
                        PyObject *l = PyList_New(1);
                        if (l == NULL) {
                            r = -1;
                        }
                        else {
                            PyList_SET_ITEM(l, 0, Py_NewRef(cur_obj));
                            r = PyDict_SetItem(b->node_sc, key, l);
                            Py_DECREF(l);
                        }
                    }
                }
                else if (!PyList_Check(nl)) {
                    PyErr_SetString(PyExc_TypeError, "node scenario list is not a list");
                    r = -1;
                }
                else {
                    r = note_scenario(nl, cur_obj, cur);
                }
                Py_DECREF(key);
                if (r < 0) {
                    goto done;
                }
            }
            if (order < 0) {
                continue;
            }
            if (a->e_first[ei] < 0) {
                a->e_first[ei] = order;
            }
            a->e_last[ei] = order;
            if (a->e_nev[ei] < a->edge_examples) {
                PyObject *edge = edge_dict(b, ei), *ex;
                if (edge == NULL || (ex = item(edge, s_example_events)) == NULL || PyList_Append(ex, order_o) < 0) {
                    goto done;
                }
                a->e_nev[ei]++;
            }
            if (!(a->n_flags[callee] & F_SEEN)) {
                if (seen(a, b, callee, order_o) < 0) {
                    goto done;
                }
                if (src == b->scen_node && seen(a, b, src, order_o) < 0) {
                    goto done;
                }
            }
            PyObject *example = NULL;
            if (f[9] == Py_False && call_example(a, b, callee, ei, order_o, detail, &example) < 0) {
                goto done;
            }
            if (omap_put(a, order, ei, example) < 0) {
                goto done;
            }
        }
        else if (order < 0) {
            if (kind == EXCEPTION) {
                int c = closed(detail);
                if (c < 0) {
                    goto done;
                }
                if (!c) {
                    PyObject *r = PyObject_CallFunction(b->raised_past_cap, "nO", callee, f[6]);
                    if (r == NULL) {
                        goto done;
                    }
                    Py_DECREF(r);
                }
            }
            continue;
        }
        else {
            Py_ssize_t slot = v->has_cid ? omap_find(a, v->cid) : -1;
            if (slot >= 0) {
                PyObject *example = a->omap[slot].example;
                ei = a->omap[slot].ei;
                if (kind == RETURN || kind == EXCEPTION) {
                    a->omap[slot].example = NULL;
                    omap_del(a, slot);
                    a->e_total[ei] += ns;
                    a->n_total[callee] += ns;
                    if (ns > a->e_max[ei]) {
                        a->e_max[ei] = ns;
                    }
                    if (ns > a->n_max[callee]) {
                        a->n_max[callee] = ns;
                    }
                    int err = 0;
                    if (kind == EXCEPTION) {
                        PyObject *edge = edge_dict(b, ei), *node = node_dict(b, callee), *r = NULL;
                        if (edge != NULL && node != NULL) {
                            r = PyObject_CallFunction(b->raised, "OOOOO", edge, node, f[2], detail,
                                                      example ? example : Py_None);
                        }
                        err = r == NULL;
                        Py_XDECREF(r);
                    }
                    else if (example != NULL && detail != Py_None) {
                        PyObject *value = parsed(detail);
                        err = value == NULL || PyDict_SetItem(example, s_return_value, value) < 0;
                        Py_XDECREF(value);
                    }
                    Py_XDECREF(example);
                    if (err) {
                        goto done;
                    }
                }
                else if (kind == YIELD && example != NULL) {
                    PyObject *y = PyDict_GetItemWithError(example, s_yields);
                    if (y == NULL && PyErr_Occurred()) {
                        goto done;
                    }
                    PyObject *one = PyLong_FromLong(1);
                    PyObject *nv = one == NULL ? NULL : y == NULL ? Py_NewRef(one) : PyNumber_Add(y, one);
                    Py_XDECREF(one);
                    if (nv == NULL) {
                        goto done;
                    }
                    int r = PyDict_SetItem(example, s_yields, nv);
                    Py_DECREF(nv);
                    if (r < 0) {
                        goto done;
                    }
                }
            }
            if (seen(a, b, callee, order_o) < 0) {
                goto done;
            }
        }
        a->n_last[callee] = order;
        if (sname != Py_None) {
            if (a->s_first[cur] < 0) {
                a->s_first[cur] = order;
            }
            a->s_last[cur] = order;
        }
        /* the step columns */
        long long t = v->t / a->unit;
        out[0][count] = (unsigned char)kind;
        put32(out[1] + 4 * count, (uint32_t)callee);
        put32(out[2] + 4 * count, (uint32_t)(int32_t)ei);
        put16(out[3] + 2 * count, v->thread);
        put16(out[4] + 2 * count, depth);
        put32(out[5] + 4 * count, (uint32_t)v->cid);
        put32(out[6] + 4 * count, (uint32_t)(t < U32_TOP ? t : U32_TOP));
        last_t = f[3];
        count++;
    }
    for (int c = 0; c < 7; c++) {
        if (PyByteArray_Resize(cols[c], count * widths[c]) < 0) {
            goto done;
        }
    }
    {
        PyObject *ctuple = PyTuple_New(7);
        if (ctuple == NULL) {
            goto done;
        }
        for (int c = 0; c < 7; c++) {
            PyTuple_SET_ITEM(ctuple, c, cols[c]);
            cols[c] = NULL;
        }
        result = Py_BuildValue("LLnON", calls, max_depth, count, last_t, ctuple);
    }
done:
    for (int c = 0; c < 7; c++) {
        Py_XDECREF(cols[c]);
    }
    Py_XDECREF(cur_name);
    Py_XDECREF(cur_obj);
    return result;
}

/* ------------------------------------------------------------------ fold, hand-over */

static PyObject *
Agg_fold(Agg *a, PyObject *builder)
{
    if (!a->dirty) {
        Py_RETURN_NONE;
    }
    PyObject *refs[NREFS] = {NULL}, *last_seen = NULL;
    B b;
    PyObject *r = NULL;
    if (get_b(builder, &b, refs) == NULL) {
        goto done;
    }
    last_seen = PyObject_GetAttr(builder, s_last_seen_attr);
    if (last_seen == NULL || !PyDict_Check(last_seen)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "Aggregator: _last_seen is not a dict");
        }
        goto done;
    }
    Py_ssize_t nn = PyList_GET_SIZE(b.nodes) < a->n_cap ? PyList_GET_SIZE(b.nodes) : a->n_cap;
    for (Py_ssize_t i = 0; i < nn; i++) {
        if (!a->n_calls[i] && !a->n_total[i] && !a->n_max[i] && a->n_last[i] < 0) {
            continue;
        }
        PyObject *node = node_dict(&b, i);
        if (node == NULL) {
            goto done;
        }
        if (a->n_calls[i] && dict_add(node, s_call_count, a->n_calls[i]) < 0) {
            goto done;
        }
        a->n_calls[i] = 0;
        if (a->n_total[i] && dict_add(node, s_total_ns, a->n_total[i]) < 0) {
            goto done;
        }
        a->n_total[i] = 0;
        if (a->n_max[i]) {
            PyObject *m = item(node, s_max_ns), *cv = ll(a->n_max[i]);
            int gt = m == NULL || cv == NULL ? -1 : PyObject_RichCompareBool(cv, m, Py_GT);
            if (gt > 0) {
                gt = PyDict_SetItem(node, s_max_ns, cv);
            }
            Py_XDECREF(cv);
            if (gt < 0) {
                goto done;
            }
        }
        if (a->n_last[i] >= 0) {
            PyObject *k = PyLong_FromSsize_t(i), *v = ll(a->n_last[i]);
            int err = k == NULL || v == NULL || PyDict_SetItem(last_seen, k, v) < 0;
            Py_XDECREF(k);
            Py_XDECREF(v);
            if (err) {
                goto done;
            }
        }
    }
    Py_ssize_t ne = PyList_GET_SIZE(b.edges) < a->e_cap ? PyList_GET_SIZE(b.edges) : a->e_cap;
    for (Py_ssize_t i = 0; i < ne; i++) {
        if (!a->e_count[i] && !a->e_total[i] && !a->e_max[i] && a->e_last[i] < 0) {
            continue;
        }
        PyObject *edge = edge_dict(&b, i);
        if (edge == NULL) {
            goto done;
        }
        if (a->e_count[i]) {
            if (dict_add(edge, s_count, a->e_count[i]) < 0
                || (a->e_medge[i] != NULL && dict_add(a->e_medge[i], s_count, a->e_count[i]) < 0)) {
                goto done;
            }
        }
        a->e_count[i] = 0;
        if (a->e_total[i] && dict_add(edge, s_total_ns, a->e_total[i]) < 0) {
            goto done;
        }
        a->e_total[i] = 0;
        if (a->e_max[i]) {
            PyObject *m = item(edge, s_max_ns), *cv = ll(a->e_max[i]);
            int gt = m == NULL || cv == NULL ? -1 : PyObject_RichCompareBool(cv, m, Py_GT);
            if (gt > 0) {
                gt = PyDict_SetItem(edge, s_max_ns, cv);
            }
            Py_XDECREF(cv);
            if (gt < 0) {
                goto done;
            }
        }
        if (a->e_first[i] >= 0) {
            PyObject *fs = item(edge, s_first_seen);
            if (fs == NULL || (fs == Py_None && dict_set_ll(edge, s_first_seen, a->e_first[i]) < 0)) {
                goto done;
            }
        }
        if (a->e_last[i] >= 0 && dict_set_ll(edge, s_last_seen, a->e_last[i]) < 0) {
            goto done;
        }
    }
    Py_ssize_t ns = PyList_GET_SIZE(b.scen_stats) < a->s_cap ? PyList_GET_SIZE(b.scen_stats) : a->s_cap;
    for (Py_ssize_t i = 0; i < ns; i++) {
        PyObject *st = PyList_GET_ITEM(b.scen_stats, i);
        if (!PyDict_Check(st)) {
            PyErr_SetString(PyExc_TypeError, "scenario stats are not a dict");
            goto done;
        }
        if (a->s_calls[i] && dict_add(st, s_calls, a->s_calls[i]) < 0) {
            goto done;
        }
        a->s_calls[i] = 0;
        if (a->s_first[i] >= 0) {
            PyObject *fe = item(st, s_first_event);
            if (fe == NULL || (fe == Py_None && dict_set_ll(st, s_first_event, a->s_first[i]) < 0)) {
                goto done;
            }
        }
        if (a->s_last[i] >= 0 && dict_set_ll(st, s_last_event, a->s_last[i]) < 0) {
            goto done;
        }
    }
    a->dirty = 0;
    r = Py_NewRef(Py_None);
done:
    for (int i = 0; i < NREFS; i++) {
        Py_XDECREF(refs[i]);
    }
    Py_XDECREF(last_seen);
    return r;
}

/* The open calls as the Python loop keeps them: {order: (edge, example or None)}. */
static PyObject *
Agg_open_calls(Agg *a, PyObject *Py_UNUSED(ignored))
{
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i <= a->omap_mask; i++) {
        OpenSlot *s = &a->omap[i];
        if (s->key == -1) {
            continue;
        }
        PyObject *k = ll(s->key), *v = Py_BuildValue("nO", s->ei, s->example ? s->example : Py_None);
        int err = k == NULL || v == NULL || PyDict_SetItem(d, k, v) < 0;
        Py_XDECREF(k);
        Py_XDECREF(v);
        if (err) {
            Py_DECREF(d);
            return NULL;
        }
    }
    return d;
}

/* ------------------------------------------------------------------ the type */

static void
Agg_dealloc(Agg *a)
{
    for (int i = 0; i < EP_SLOTS; i++) {
        Py_CLEAR(a->eps[i].ep);
    }
    if (a->omap != NULL) {
        for (Py_ssize_t i = 0; i <= a->omap_mask; i++) {
            if (a->omap[i].key != -1) {
                Py_CLEAR(a->omap[i].example);
            }
        }
    }
    if (a->e_medge != NULL) {
        for (Py_ssize_t i = 0; i < a->e_cap; i++) {
            Py_CLEAR(a->e_medge[i]);
        }
    }
    void *arrays[] = {a->n_calls, a->n_total, a->n_max, a->n_last, a->n_flags, a->e_count, a->e_total, a->e_max,
                      a->e_first, a->e_last, a->e_nev, a->e_flags, a->e_medge, a->s_calls, a->s_first, a->s_last,
                      a->emap, a->omap};
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        PyMem_Free(arrays[i]);
    }
    Py_TYPE(a)->tp_free((PyObject *)a);
}

static PyObject *
Agg_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    long long node_examples, edge_examples, edge_summaries, unit;
    static char *kwlist[] = {"node_examples", "edge_examples", "edge_summaries", "time_unit_ns", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "LLLL", kwlist, &node_examples, &edge_examples, &edge_summaries,
                                     &unit)) {
        return NULL;
    }
    if (unit <= 0) {
        PyErr_SetString(PyExc_ValueError, "time_unit_ns must be positive");
        return NULL;
    }
    Agg *a = (Agg *)type->tp_alloc(type, 0);  /* zeroed */
    if (a == NULL) {
        return NULL;
    }
    a->node_examples = node_examples;
    a->edge_examples = edge_examples;
    a->edge_summaries = edge_summaries;
    a->unit = unit;
    a->emap = PyMem_Malloc(64 * sizeof(EdgeSlot));
    a->omap = PyMem_Malloc(64 * sizeof(OpenSlot));
    if (a->emap == NULL || a->omap == NULL) {
        Py_DECREF(a);
        return PyErr_NoMemory();
    }
    a->emap_mask = a->omap_mask = 63;
    for (int i = 0; i < 64; i++) {
        a->emap[i].key = -1;
        a->omap[i].key = -1;
        a->omap[i].example = NULL;
    }
    return (PyObject *)a;
}

/* ------------------------------------------------------------------ calls past the cap */

/* A set of non-negative long long keys (open addressing, -1: empty), for one add_counted call. */
typedef struct {
    long long *k;
    Py_ssize_t mask, used;
} KSet;

static int
kset_init(KSet *s)
{
    s->mask = 1023;
    s->used = 0;
    s->k = PyMem_Malloc(1024 * sizeof(long long));
    if (s->k == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(s->k, 0xff, 1024 * sizeof(long long));
    return 0;
}

/* 1: added, 0: was there, -1: error */
static int
kset_add(KSet *s, long long key)
{
    if ((s->used + 1) * 2 > s->mask + 1) {
        Py_ssize_t size = (s->mask + 1) * 2, old_size = s->mask + 1;
        long long *old = s->k, *m = PyMem_Malloc((size_t)size * sizeof(long long));
        if (m == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memset(m, 0xff, (size_t)size * sizeof(long long));
        for (Py_ssize_t i = 0; i < old_size; i++) {
            if (old[i] != -1) {
                size_t j = mix(old[i]) & (size_t)(size - 1);
                while (m[j] != -1) {
                    j = (j + 1) & (size_t)(size - 1);
                }
                m[j] = old[i];
            }
        }
        PyMem_Free(old);
        s->k = m;
        s->mask = size - 1;
    }
    size_t i = mix(key) & (size_t)s->mask;
    while (s->k[i] != -1) {
        if (s->k[i] == key) {
            return 0;
        }
        i = (i + 1) & (size_t)s->mask;
    }
    s->k[i] = key;
    s->used++;
    return 1;
}

/* Scenario si into list sl unless there already (SnapshotBuilder.add_counted_all's sets): `touched` holds the
   lists (by owner index) whose items are in `pairs` (owner << 32 | scenario) already. */
static int
note_member(KSet *touched, KSet *pairs, PyObject *sl, long long owner, long long si, PyObject *si_obj)
{
    int fresh = kset_add(touched, owner);
    if (fresh < 0) {
        return -1;
    }
    if (fresh) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(sl); i++) {
            long long v;
            PyObject *o = PyList_GET_ITEM(sl, i);
            if (!PyLong_CheckExact(o) || as_ll(o, &v) < 0 || v < 0 || v > 0xFFFFFFFFLL) {
                PyErr_SetString(PyExc_TypeError, "Aggregator: a scenario list holds a non-index");
                return -1;
            }
            if (kset_add(pairs, owner << 32 | v) < 0) {
                return -1;
            }
        }
    }
    int added = kset_add(pairs, owner << 32 | si);
    if (added <= 0) {
        return added;
    }
    return PyList_Append(sl, si_obj);
}

/* The rows' checks (5-tuples; calls and raised ints that fit; scenario str or None): 0 when one fails. */
static int
rows_ok(PyObject *rows)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(rows); i++) {
        PyObject *r = PyTuple_GET_ITEM(rows, i);
        long long v;
        if (!PyTuple_CheckExact(r) || PyTuple_GET_SIZE(r) != 5) {
            return 0;
        }
        PyObject *n = PyTuple_GET_ITEM(r, 2), *x = PyTuple_GET_ITEM(r, 3), *s = PyTuple_GET_ITEM(r, 4);
        if (!PyLong_CheckExact(n) || as_ll(n, &v) < 0 || v < -(1LL << 40) || v > (1LL << 40)
            || !PyLong_CheckExact(x) || as_ll(x, &v) < 0 || v < -(1LL << 40) || v > (1LL << 40)
            || (s != Py_None && !PyUnicode_CheckExact(s))) {
            PyErr_Clear();
            return 0;
        }
    }
    return 1;
}

static PyObject *s_raised;

/* add_counted(builder, rows) -> (counted, in_scenarios, calls), or None: not taken (build.py runs its own loop).
   SnapshotBuilder.add_counted_all's loop with the counters in C (fold() writes them out): the same nodes,
   edges (made by the builder, callee first), scenario lists and totals. */
static PyObject *
Agg_add_counted(Agg *a, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "add_counted(builder, rows: list)");
        return NULL;
    }
    PyObject *rows = PyList_AsTuple(args[1]);  /* cannot change under the loop while it calls Python */
    if (rows == NULL) {
        return NULL;
    }
    if (!rows_ok(rows)) {
        Py_DECREF(rows);
        Py_RETURN_NONE;
    }
    PyObject *refs[NREFS] = {NULL}, *minus_one = NULL, *last_name = NULL, *si_obj = NULL, *r = NULL;
    KSet e_touched = {0}, e_pairs = {0}, n_touched = {0}, n_pairs = {0};
    B b;
    long long counted = 0, in_scenarios = 0, calls = 0, si = -1;
    if (get_b(args[0], &b, refs) == NULL || ensure_nodes(a, PyList_GET_SIZE(b.nodes)) < 0
        || ensure_edges(a, PyList_GET_SIZE(b.edges)) < 0 || ensure_scen(a, PyList_GET_SIZE(b.scen_stats)) < 0
        || kset_init(&e_touched) < 0 || kset_init(&e_pairs) < 0 || kset_init(&n_touched) < 0
        || kset_init(&n_pairs) < 0 || (minus_one = PyLong_FromLong(-1)) == NULL) {
        goto done;
    }
    a->dirty = 1;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(rows); i++) {
        PyObject *row = PyTuple_GET_ITEM(rows, i);
        PyObject *caller = PyTuple_GET_ITEM(row, 0), *callee = PyTuple_GET_ITEM(row, 1);
        PyObject *scen = PyTuple_GET_ITEM(row, 4);
        long long count, raised;
        as_ll(PyTuple_GET_ITEM(row, 2), &count);
        as_ll(PyTuple_GET_ITEM(row, 3), &raised);
        Py_ssize_t dst = node_of(a, &b, callee);  /* callee first: the order add_batch makes nodes in */
        if (dst < 0) {
            goto done;
        }
        Py_ssize_t src = caller == Py_None ? b.scen_node : node_of(a, &b, caller);
        if (src < 0) {
            goto done;
        }
        Py_ssize_t ei = edge_of(a, &b, src, dst, minus_one);
        if (ei < 0 || ensure_nodes(a, PyList_GET_SIZE(b.nodes)) < 0) {
            goto done;
        }
        counted += count;
        if (scen != Py_None && count) {
            in_scenarios += count;
            if (scen != last_name) {
                int same = last_name != NULL ? PyObject_RichCompareBool(scen, last_name, Py_EQ) : 0;
                if (same < 0) {
                    goto done;
                }
                if (!same) {
                    PyObject *k = PyObject_CallOneArg(b.scenario, scen);
                    if (k == NULL) {
                        goto done;
                    }
                    si = PyLong_AsLongLong(k);
                    Py_XSETREF(si_obj, k);
                    if ((si == -1 && PyErr_Occurred()) || si < 0 || si > 0xFFFFFFFFLL
                        || ensure_scen(a, PyList_GET_SIZE(b.scen_stats)) < 0 || si >= a->s_cap) {
                        if (!PyErr_Occurred()) {
                            PyErr_SetString(PyExc_ValueError, "Aggregator: bad scenario index");
                        }
                        goto done;
                    }
                }
                Py_XSETREF(last_name, Py_NewRef(scen));
            }
            a->s_calls[si] += count;
            if (ei >= PyList_GET_SIZE(b.edge_sc)) {
                PyErr_SetString(PyExc_IndexError, "Aggregator: edge without a scenario list");
                goto done;
            }
            PyObject *esl = PyList_GET_ITEM(b.edge_sc, ei);
            if (!PyList_Check(esl) || note_member(&e_touched, &e_pairs, esl, ei, si, si_obj) < 0) {
                if (!PyErr_Occurred()) {
                    PyErr_SetString(PyExc_TypeError, "Aggregator: a scenario list is not a list");
                }
                goto done;
            }
            PyObject *key = PyLong_FromSsize_t(dst);
            if (key == NULL) {
                goto done;
            }
            PyObject *nsl = PyDict_GetItemWithError(b.node_sc, key);  /* borrowed */
            if (nsl == NULL) {
                nsl = PyErr_Occurred() ? NULL : PyList_New(0);
                if (nsl == NULL || PyDict_SetItem(b.node_sc, key, nsl) < 0) {
                    Py_XDECREF(nsl);
                    Py_DECREF(key);
                    goto done;
                }
                Py_DECREF(nsl);  /* the dict holds it */
            }
            Py_DECREF(key);
            if (!PyList_Check(nsl) || note_member(&n_touched, &n_pairs, nsl, dst, si, si_obj) < 0) {
                if (!PyErr_Occurred()) {
                    PyErr_SetString(PyExc_TypeError, "Aggregator: a scenario list is not a list");
                }
                goto done;
            }
        }
        a->e_count[ei] += count;
        a->n_calls[dst] += count;
        if (raised) {
            PyObject *edge = edge_dict(&b, ei), *node = edge == NULL ? NULL : node_dict(&b, dst);
            if (node == NULL || dict_add(edge, s_raised, raised) < 0 || dict_add(node, s_raised, raised) < 0) {
                goto done;
            }
        }
        calls += count;
    }
    r = Py_BuildValue("(LLL)", counted, in_scenarios, calls);
done:
    for (int i = 0; i < NREFS; i++) {
        Py_XDECREF(refs[i]);
    }
    PyMem_Free(e_touched.k);
    PyMem_Free(e_pairs.k);
    PyMem_Free(n_touched.k);
    PyMem_Free(n_pairs.k);
    Py_XDECREF(minus_one);
    Py_XDECREF(last_name);
    Py_XDECREF(si_obj);
    Py_DECREF(rows);
    return r;
}

static PyMethodDef Agg_methods[] = {
    {"add_batch", (PyCFunction)(void (*)(void))Agg_add_batch, METH_FASTCALL,
     "add_batch(builder, batch) -> (calls, max_depth, recorded, last_t, columns) or None: not taken"},
    {"add_counted", (PyCFunction)(void (*)(void))Agg_add_counted, METH_FASTCALL,
     "add_counted(builder, rows) -> (counted, in_scenarios, calls) or None: not taken"},
    {"fold", (PyCFunction)Agg_fold, METH_O, "fold(builder): the C counters into the builder's dicts"},
    {"open_calls", (PyCFunction)Agg_open_calls, METH_NOARGS, "{order: (edge, example or None)} of open calls"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject AggType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "skeleton_replay.model._aggregate.Aggregator",
    .tp_basicsize = sizeof(Agg),
    .tp_dealloc = (destructor)Agg_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The snapshot model's per-event loop (SnapshotBuilder.add_batch) in C.",
    .tp_methods = Agg_methods,
    .tp_new = Agg_new,
};

/* delta_u32(data, prev) -> bytes: little-endian u32 values -> v[i] - v[i-1] mod 2**32 (v[-1] = prev), the
 * same layout (model/steps.py delta_u32, whose Python twin does it with one big int: tests compare them). */
static PyObject *
delta_u32(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "delta_u32(data, prev)");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    uint32_t prev = (uint32_t)PyLong_AsUnsignedLongMask(args[1]);
    if (prev == (uint32_t)-1 && PyErr_Occurred()) {
        PyBuffer_Release(&view);
        return NULL;
    }
    Py_ssize_t n = view.len / 4;
    PyObject *out = PyBytes_FromStringAndSize(NULL, 4 * n);
    if (out != NULL) {
        const unsigned char *src = (const unsigned char *)view.buf;
        unsigned char *dst = (unsigned char *)PyBytes_AS_STRING(out);
        for (Py_ssize_t i = 0; i < n; i++, src += 4, dst += 4) {
            uint32_t v = (uint32_t)src[0] | (uint32_t)src[1] << 8 | (uint32_t)src[2] << 16 | (uint32_t)src[3] << 24;
            uint32_t d = v - prev;
            prev = v;
            dst[0] = (unsigned char)d;
            dst[1] = (unsigned char)(d >> 8);
            dst[2] = (unsigned char)(d >> 16);
            dst[3] = (unsigned char)(d >> 24);
        }
    }
    PyBuffer_Release(&view);
    return out;
}

static PyMethodDef module_methods[] = {
    {"delta_u32", (PyCFunction)(void (*)(void))delta_u32, METH_FASTCALL,
     "delta_u32(data, prev): little-endian u32 values -> their deltas mod 2**32, same layout"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_aggregate", "The snapshot model's per-event loop in C (model/build.py).", -1,
    module_methods,
};

PyMODINIT_FUNC
PyInit__aggregate(void)
{
    struct {
        PyObject **p;
        const char *s;
    } strs[] = {
        {&s_node_id, "node_id"},         {&s_first_seen, "first_seen"},   {&s_examples, "examples"},
        {&s_example_events, "example_events"}, {&s_event, "event"},       {&s_args, "args"},
        {&s_return_value, "return_value"}, {&s_yields, "yields"},         {&s_type, "type"},
        {&s_generator_exit, "GeneratorExit"}, {&s_call_count, "call_count"}, {&s_total_ns, "total_ns"},
        {&s_max_ns, "max_ns"},           {&s_count, "count"},             {&s_last_seen, "last_seen"},
        {&s_calls, "calls"},             {&s_first_event, "first_event"}, {&s_last_event, "last_event"},
        {&s_last_seen_attr, "_last_seen"}, {&s_raised, "raised"}, {&s_id, "id"}, {&s_source, "source"},
        {&s_target, "target"}, {&s_kind, "kind"}, {&s_call, "call"}, {&s_raised_key, "raised"},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (*strs[i].p == NULL && (*strs[i].p = PyUnicode_InternFromString(strs[i].s)) == NULL) {
            return NULL;
        }
    }
    if (PyType_Ready(&AggType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "Aggregator", (PyObject *)&AggType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
