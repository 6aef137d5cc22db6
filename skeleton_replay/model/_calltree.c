/* The call tree's per-event loop in C (optional: model/calltree.py has the pure-Python twin).
 *
 * CallTree.add_batch builds one entry per recorded call, keeps a stack per thread and the open calls by
 * call id, counts what the tree budget cuts on the nearest kept entry above, and folds each finished kept
 * entry into its previous sibling when their signatures are equal. The Python loop costs ~1-2 us per event;
 * here the entries are a C type (Node) with the same attributes as calltree.CallNode, made without running
 * Python, and the signature is the same number Python's hash() of the same tuple gives (the xxHash-based
 * tuple hash of CPython 3.8+, int hashes modulo 2**61-1): both twins build the same tree, signatures included.
 *
 * Everything the tree keeps stays in the Python containers of the CallTree object (stacks, roots, open_calls,
 * calls, last, _keys, kept, cut), so CallTree.threads() and workflow.md's renderer read either twin's tree.
 * The only Python called from the loop is fold_key() for a node id seen for the first time (cached in _keys).
 * Within one batch, the running thread's call counter and last event are kept in C and written to the
 * `calls` and `last` dicts when another thread's event comes and when the batch ends (or fails).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "../_spread.h"

/* kinds: keep in step with events/types.py */
#define K_CALL 0
#define K_EXCEPTION 2
#define K_YIELD 3
#define K_RESUME 4
/* Event fields used: order, kind, call_id, thread, callee, detail, scenario */
#define F_ORDER 0
#define F_KIND 1
#define F_CALL_ID 2
#define F_THREAD 5
#define F_CALLEE 7
#define F_DETAIL 8
#define F_SCENARIO 12

static PyObject *s_open, *s_returned, *s_raised, *s_node_id;
static PyObject *s_stacks, *s_roots, *s_open_calls, *s_calls, *s_last, *s_keys;
static PyObject *s_budget, *s_per_root, *s_kept, *s_cut;
static PyObject *group_label_fn = NULL; /* calltree.group_label, looked up on first use of Node.label */

/* ------------------------------------------------------------------ Node */

typedef struct {
    PyObject_HEAD
    PyObject *node_id;
    PyObject *args;
    PyObject *outcome; /* "open" | "returned" | "raised" */
    PyObject *detail;
    PyObject *children; /* list, or NULL until the first child (read as []) */
    PyObject *scenario;
    PyObject *holder; /* Node or NULL (None) */
    PyObject *key;
    PyObject *ids; /* set or NULL (None) */
    long long order, last_order, count, sig, yields, cut, size, start, kept_below, paused;
    int parked; /* in the tree's open_calls (an open call on no stack of its own: see _find_open) */
} Node;

static PyTypeObject NodeType;

#define Node_Check(o) PyObject_TypeCheck((o), &NodeType)

static Node *
node_make(PyObject *node_id, long long order, PyObject *args)
{
    Node *n = PyObject_GC_New(Node, &NodeType);
    if (n == NULL) {
        return NULL;
    }
    n->node_id = Py_NewRef(node_id);
    n->args = Py_NewRef(args);
    n->outcome = Py_NewRef(s_open);
    n->detail = NULL;
    n->children = NULL;
    n->scenario = NULL;
    n->holder = NULL;
    n->key = Py_NewRef(node_id);
    n->ids = NULL;
    n->order = n->last_order = order;
    n->count = 1;
    n->sig = n->yields = n->cut = n->size = n->start = n->kept_below = n->paused = 0;
    n->parked = 0;
    PyObject_GC_Track((PyObject *)n);
    return n;
}

static PyObject *
node_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"node_id", "order", "args", NULL};
    PyObject *node_id, *a;
    long long order;
    if (type != &NodeType) {
        PyErr_SetString(PyExc_TypeError, "Node cannot be subclassed");
        return NULL;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OLO:Node", kwlist, &node_id, &order, &a)) {
        return NULL;
    }
    return (PyObject *)node_make(node_id, order, a);
}

static int
node_traverse(Node *n, visitproc visit, void *arg)
{
    Py_VISIT(n->node_id);
    Py_VISIT(n->args);
    Py_VISIT(n->outcome);
    Py_VISIT(n->detail);
    Py_VISIT(n->children);
    Py_VISIT(n->scenario);
    Py_VISIT(n->holder);
    Py_VISIT(n->key);
    Py_VISIT(n->ids);
    return 0;
}

static int
node_clear(Node *n)
{
    Py_CLEAR(n->node_id);
    Py_CLEAR(n->args);
    Py_CLEAR(n->outcome);
    Py_CLEAR(n->detail);
    Py_CLEAR(n->children);
    Py_CLEAR(n->scenario);
    Py_CLEAR(n->holder);
    Py_CLEAR(n->key);
    Py_CLEAR(n->ids);
    return 0;
}

static void
node_dealloc(Node *n)
{
    PyObject_GC_UnTrack(n);
    Py_TRASHCAN_BEGIN(n, node_dealloc) /* a deep tree frees without deep C recursion */
    node_clear(n);
    PyObject_GC_Del(n);
    Py_TRASHCAN_END
}

static PyObject *
node_get_children(Node *n, void *closure)
{
    (void)closure;
    if (n->children == NULL) {
        n->children = PyList_New(0);
        if (n->children == NULL) {
            return NULL;
        }
    }
    return Py_NewRef(n->children);
}

static int
node_set_children(Node *n, PyObject *value, void *closure)
{
    (void)closure;
    if (value == NULL || !PyList_CheckExact(value)) {
        PyErr_SetString(PyExc_TypeError, "Node.children must be a list");
        return -1;
    }
    Py_XSETREF(n->children, Py_NewRef(value));
    return 0;
}

static int
ids_truthy(PyObject *ids)
{
    return ids != NULL && ids != Py_None && PyObject_IsTrue(ids);
}

static PyObject *
node_get_instances(Node *n, void *closure)
{
    (void)closure;
    if (n->ids == NULL || n->ids == Py_None) {
        return PyLong_FromLong(1);
    }
    int t = PyObject_IsTrue(n->ids);
    if (t < 0) {
        return NULL;
    }
    if (!t) {
        return PyLong_FromLong(1);
    }
    Py_ssize_t k = PyObject_Length(n->ids);
    return k < 0 ? NULL : PyLong_FromSsize_t(k);
}

static PyObject *
node_get_label(Node *n, void *closure)
{
    (void)closure;
    if (group_label_fn == NULL) {
        PyObject *mod = PyImport_ImportModule("skeleton_replay.model.calltree");
        if (mod == NULL) {
            return NULL;
        }
        group_label_fn = PyObject_GetAttrString(mod, "group_label");
        Py_DECREF(mod);
        if (group_label_fn == NULL) {
            return NULL;
        }
    }
    PyObject *instances = node_get_instances(n, NULL);
    if (instances == NULL) {
        return NULL;
    }
    PyObject *r = PyObject_CallFunctionObjArgs(group_label_fn, n->node_id ? n->node_id : Py_None, instances, NULL);
    Py_DECREF(instances);
    return r;
}

static PyGetSetDef node_getset[] = {
    {"children", (getter)node_get_children, (setter)node_set_children, "kept entries below it, in order", NULL},
    {"instances", (getter)node_get_instances, NULL, "distinct instances (node ids) this entry stands for", NULL},
    {"label", (getter)node_get_label, NULL, "the node id, or `Style x214 .render` for folded instances", NULL},
    {NULL},
};

static PyMemberDef node_members[] = {
    {"node_id", T_OBJECT, offsetof(Node, node_id), 0, NULL},
    {"args", T_OBJECT, offsetof(Node, args), 0, NULL},
    {"outcome", T_OBJECT, offsetof(Node, outcome), 0, NULL},
    {"detail", T_OBJECT, offsetof(Node, detail), 0, NULL},
    {"scenario", T_OBJECT, offsetof(Node, scenario), 0, NULL},
    {"holder", T_OBJECT, offsetof(Node, holder), 0, NULL},
    {"key", T_OBJECT, offsetof(Node, key), 0, NULL},
    {"ids", T_OBJECT, offsetof(Node, ids), 0, NULL},
    {"order", T_LONGLONG, offsetof(Node, order), 0, NULL},
    {"last_order", T_LONGLONG, offsetof(Node, last_order), 0, NULL},
    {"count", T_LONGLONG, offsetof(Node, count), 0, NULL},
    {"sig", T_LONGLONG, offsetof(Node, sig), 0, NULL},
    {"yields", T_LONGLONG, offsetof(Node, yields), 0, NULL},
    {"cut", T_LONGLONG, offsetof(Node, cut), 0, NULL},
    {"size", T_LONGLONG, offsetof(Node, size), 0, NULL},
    {"start", T_LONGLONG, offsetof(Node, start), 0, NULL},
    {"kept_below", T_LONGLONG, offsetof(Node, kept_below), 0, NULL},
    {"paused", T_LONGLONG, offsetof(Node, paused), 0, NULL},
    {NULL},
};

static PyTypeObject NodeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "skeleton_replay.model._calltree.Node",
    .tp_basicsize = sizeof(Node),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "One entry of the call tree: the attributes of calltree.CallNode, in C.",
    .tp_new = node_new,
    .tp_dealloc = (destructor)node_dealloc,
    .tp_traverse = (traverseproc)node_traverse,
    .tp_clear = (inquiry)node_clear,
    .tp_members = node_members,
    .tp_getset = node_getset,
};

/* ------------------------------------------------------- the signature */

#if SIZEOF_VOID_P > 4
#define XXPRIME_1 ((Py_uhash_t)11400714785074694791ULL)
#define XXPRIME_2 ((Py_uhash_t)14029467366897019727ULL)
#define XXPRIME_5 ((Py_uhash_t)2870177450012600261ULL)
#define XXROTATE(x) ((x << 31) | (x >> 33))
#else
#define XXPRIME_1 ((Py_uhash_t)2654435761UL)
#define XXPRIME_2 ((Py_uhash_t)2246822519UL)
#define XXPRIME_5 ((Py_uhash_t)374761393UL)
#define XXROTATE(x) ((x << 13) | (x >> 19))
#endif
#define HASH_MODULUS ((unsigned long long)(((size_t)1 << PyHASH_BITS) - 1))
#ifndef PyHASH_BITS
#define PyHASH_BITS _PyHASH_BITS
#endif

/* hash() of a Python int with this value */
static Py_uhash_t
hash_int(long long v)
{
    unsigned long long a = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    Py_hash_t h = (Py_hash_t)(a % HASH_MODULUS);
    if (v < 0) {
        h = -h;
    }
    return (Py_uhash_t)(h == -1 ? -2 : h);
}

#define LANE(acc, lane) do { acc += (lane) * XXPRIME_2; acc = XXROTATE(acc); acc *= XXPRIME_1; } while (0)

static Py_uhash_t
tuple_end(Py_uhash_t acc, Py_ssize_t len)
{
    acc += (Py_uhash_t)len ^ (XXPRIME_5 ^ 3527539UL);
    return acc == (Py_uhash_t)-1 ? (Py_uhash_t)1546275796 : acc;
}

static Py_uhash_t
hash_obj(PyObject *o, int *err)
{
    Py_hash_t h = PyObject_Hash(o ? o : Py_None);
    if (h == -1) {
        *err = 1;
    }
    return (Py_uhash_t)h;
}

/* hash((key, outcome, yields, cut, scenario, tuple((c.sig, c.count) for c in children))), as calltree._fold */
static int
node_signature(Node *n, long long *sig)
{
    int err = 0;
    Py_uhash_t acc = XXPRIME_5, inner = XXPRIME_5;
    LANE(acc, hash_obj(n->key, &err));
    LANE(acc, hash_obj(n->outcome, &err));
    LANE(acc, hash_int(n->yields));
    LANE(acc, hash_int(n->cut));
    LANE(acc, hash_obj(n->scenario, &err));
    if (err) {
        return -1;
    }
    Py_ssize_t len = n->children ? PyList_GET_SIZE(n->children) : 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        PyObject *c = PyList_GET_ITEM(n->children, i);
        if (!Node_Check(c)) {
            PyErr_SetString(PyExc_TypeError, "call tree: a child entry is not a Node");
            return -1;
        }
        Py_uhash_t pair = XXPRIME_5;
        LANE(pair, hash_int(((Node *)c)->sig));
        LANE(pair, hash_int(((Node *)c)->count));
        LANE(inner, tuple_end(pair, 2));
    }
    LANE(acc, tuple_end(inner, len));
    *sig = (long long)(Py_hash_t)tuple_end(acc, 6);
    return 0;
}

/* entries in the subtree of n, n included */
static long long
subtree_size(Node *n)
{
    Node *local[128]; /* most folded entries are small: no allocation */
    Node **todo = local;
    Py_ssize_t cap = 128, top = 0;
    long long total = 0;
    todo[top++] = n;
    while (top > 0) {
        Node *x = todo[--top];
        total++;
        Py_ssize_t k = x->children ? PyList_GET_SIZE(x->children) : 0;
        if (top + k > cap) {
            while (top + k > cap) {
                cap *= 2;
            }
            Node **grown = todo == local ? PyMem_Malloc(cap * sizeof(Node *))
                                         : PyMem_Realloc(todo, cap * sizeof(Node *));
            if (grown == NULL) {
                if (todo != local) {
                    PyMem_Free(todo);
                }
                PyErr_NoMemory();
                return -1;
            }
            if (todo == local) {
                memcpy(grown, local, top * sizeof(Node *));
            }
            todo = grown;
        }
        for (Py_ssize_t i = 0; i < k; i++) {
            PyObject *c = PyList_GET_ITEM(x->children, i);
            if (!Node_Check(c)) {
                if (todo != local) {
                    PyMem_Free(todo);
                }
                PyErr_SetString(PyExc_TypeError, "call tree: a child entry is not a Node");
                return -1;
            }
            todo[top++] = (Node *)c;
        }
    }
    if (todo != local) {
        PyMem_Free(todo);
    }
    return total;
}

static int
is_open(PyObject *outcome)
{
    if (outcome == s_open) {
        return 1;
    }
    return outcome != NULL && PyUnicode_Check(outcome) && PyUnicode_Compare(outcome, s_open) == 0;
}

/* calltree.CallTree._fold: node ended under parent (NULL: none) in the top-level entry top (NULL: none) */
static int
fold(Node *parent, Node *node, Node *top, long long *kept)
{
    if (node_signature(node, &node->sig) < 0) {
        return -1;
    }
    if (parent == NULL || parent->children == NULL) {
        return 0;
    }
    PyObject *children = parent->children;
    Py_ssize_t len = PyList_GET_SIZE(children);
    if (len < 2 || PyList_GET_ITEM(children, len - 1) != (PyObject *)node) {
        return 0;
    }
    PyObject *p = PyList_GET_ITEM(children, len - 2);
    if (!Node_Check(p)) {
        PyErr_SetString(PyExc_TypeError, "call tree: a child entry is not a Node");
        return -1;
    }
    Node *prev = (Node *)p;
    if (prev->sig != node->sig || is_open(prev->outcome)) {
        return 0;
    }
    prev->count += 1;
    prev->last_order = node->last_order;
    prev->size += node->size;
    int other = PyObject_RichCompareBool(node->node_id ? node->node_id : Py_None,
                                         prev->node_id ? prev->node_id : Py_None, Py_NE);
    if (other < 0) {
        return -1;
    }
    int prev_ids = 0, node_ids = 0;
    if (!other) {
        prev_ids = ids_truthy(prev->ids);
        node_ids = prev_ids < 0 ? 0 : ids_truthy(node->ids);
        if (prev_ids < 0 || node_ids < 0) {
            return -1;
        }
    }
    if (other || prev_ids || node_ids) { /* the same method on another instance */
        PyObject *ids;
        if (prev->ids != NULL && prev->ids != Py_None) {
            ids = Py_NewRef(prev->ids);
        } else {
            ids = PySet_New(NULL);
            if (ids == NULL || PySet_Add(ids, prev->node_id ? prev->node_id : Py_None) < 0) {
                Py_XDECREF(ids);
                return -1;
            }
        }
        if (!PyAnySet_Check(ids)) {
            Py_DECREF(ids);
            PyErr_SetString(PyExc_TypeError, "call tree: Node.ids is not a set");
            return -1;
        }
        int t = ids_truthy(node->ids);
        if (t < 0) {
            Py_DECREF(ids);
            return -1;
        }
        if (t) {
            PyObject *it = PyObject_GetIter(node->ids), *x;
            if (it == NULL) {
                Py_DECREF(ids);
                return -1;
            }
            while ((x = PyIter_Next(it)) != NULL) {
                int r = PySet_Add(ids, x);
                Py_DECREF(x);
                if (r < 0) {
                    break;
                }
            }
            Py_DECREF(it);
        } else {
            PySet_Add(ids, node->node_id ? node->node_id : Py_None);
        }
        if (PyErr_Occurred()) {
            Py_DECREF(ids);
            return -1;
        }
        Py_XSETREF(prev->ids, ids);
    }
    long long n = subtree_size(node); /* before the pop: the list may hold node's last reference */
    if (n < 0) {
        return -1;
    }
    if (PyList_SetSlice(children, len - 1, len, NULL) < 0) {
        return -1;
    }
    *kept -= n;
    if (top != NULL) {
        top->kept_below -= n;
    }
    return 0;
}

/* ------------------------------------------------------------ add_batch */

#define ID_BITS 10
#define ID_CACHE (1 << ID_BITS)

typedef struct {
    PyObject *stacks, *roots, *open_calls, *calls, *last, *keys, *fold_key;
    PyObject *tid;   /* the running thread (strong), or NULL */
    PyObject *stack; /* its stack (strong) */
    PyObject *last_order; /* its last event's order (strong), or NULL */
    long long n_calls; /* its call counter */
    /* callee endpoint -> (its node id, fold key), for this batch; strong references, released at its end */
    struct {
        PyObject *callee, *nid, *key;
    } ids[ID_CACHE];
} Loop;

/* the node id and fold key of a callee (borrowed: the cache holds them), or -1 with an exception set */
static int
callee_ids(Loop *L, PyObject *callee, PyObject **nid, PyObject **key)
{
    size_t slot = sk_spread((uintptr_t)callee, ID_BITS);  /* endpoints: objects of one size (_spread.h) */
    if (L->ids[slot].callee == callee) {
        *nid = L->ids[slot].nid;
        *key = L->ids[slot].key;
        return 0;
    }
    PyObject *n = PyObject_GetAttr(callee, s_node_id), *k;
    if (n == NULL) {
        return -1;
    }
    k = PyDict_GetItemWithError(L->keys, n);
    if (k != NULL) {
        Py_INCREF(k);
    } else if (!PyErr_Occurred()) {
        k = PyObject_CallOneArg(L->fold_key, n);
        if (k != NULL && PyDict_SetItem(L->keys, n, k) < 0) {
            Py_CLEAR(k);
        }
    }
    if (k == NULL) {
        Py_DECREF(n);
        return -1;
    }
    Py_XSETREF(L->ids[slot].callee, Py_NewRef(callee));
    Py_XSETREF(L->ids[slot].nid, n);
    Py_XSETREF(L->ids[slot].key, k);
    *nid = n;
    *key = k;
    return 0;
}

static void
drop_ids(Loop *L)
{
    for (size_t i = 0; i < ID_CACHE; i++) {
        Py_CLEAR(L->ids[i].callee);
        Py_CLEAR(L->ids[i].nid);
        Py_CLEAR(L->ids[i].key);
    }
}

/* calls[tid] and last[tid] of the running thread, from C to the dicts */
static int
flush_thread(Loop *L)
{
    if (L->tid == NULL) {
        return 0;
    }
    PyObject *n = PyLong_FromLongLong(L->n_calls);
    if (n == NULL) {
        return -1;
    }
    int r = PyDict_SetItem(L->calls, L->tid, n);
    Py_DECREF(n);
    if (r < 0) {
        return -1;
    }
    if (L->last_order != NULL && PyDict_SetItem(L->last, L->tid, L->last_order) < 0) {
        return -1;
    }
    return 0;
}

static void
drop_thread(Loop *L)
{
    Py_CLEAR(L->tid);
    Py_CLEAR(L->stack);
    Py_CLEAR(L->last_order);
}

/* make tid the running thread: its stack (a pseudo root first, made on its first event) and counter */
static int
switch_thread(Loop *L, PyObject *tid, long long order)
{
    if (L->tid != NULL) {
        int same = L->tid == tid ? 1 : PyObject_RichCompareBool(L->tid, tid, Py_EQ);
        if (same < 0) {
            return -1;
        }
        if (same) {
            return 0;
        }
        if (flush_thread(L) < 0) {
            return -1;
        }
        drop_thread(L);
    }
    PyObject *stack = PyDict_GetItemWithError(L->stacks, tid);
    if (stack != NULL) {
        if (!PyList_CheckExact(stack) || PyList_GET_SIZE(stack) == 0) {
            PyErr_SetString(PyExc_TypeError, "call tree: a thread's stack is not a list starting with its root");
            return -1;
        }
        PyObject *n = PyDict_GetItemWithError(L->calls, tid);
        if (n == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_SetObject(PyExc_KeyError, tid);
            }
            return -1;
        }
        long long c = PyLong_AsLongLong(n);
        if (c == -1 && PyErr_Occurred()) {
            return -1;
        }
        L->n_calls = c;
        L->stack = Py_NewRef(stack);
        L->tid = Py_NewRef(tid);
        return 0;
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    PyObject *name = PyUnicode_FromFormat("thread:%S", tid);
    if (name == NULL) {
        return -1;
    }
    Node *root = node_make(name, order, Py_None);
    Py_DECREF(name);
    if (root == NULL) {
        return -1;
    }
    stack = PyList_New(1);
    if (stack == NULL) {
        Py_DECREF(root);
        return -1;
    }
    PyList_SET_ITEM(stack, 0, (PyObject *)root); /* steals */
    PyObject *zero = PyLong_FromLong(0);
    if (zero == NULL || PyDict_SetItem(L->roots, tid, (PyObject *)root) < 0 ||
        PyDict_SetItem(L->stacks, tid, stack) < 0 || PyDict_SetItem(L->calls, tid, zero) < 0) {
        Py_XDECREF(zero);
        Py_DECREF(stack);
        return -1;
    }
    Py_DECREF(zero);
    L->stack = stack;
    L->tid = Py_NewRef(tid);
    L->n_calls = 0;
    return 0;
}

static Node *
stack_node(PyObject *stack, Py_ssize_t i)
{
    PyObject *o = PyList_GET_ITEM(stack, i);
    if (!Node_Check(o)) {
        PyErr_SetString(PyExc_TypeError, "call tree: a stack entry is not a Node");
        return NULL;
    }
    return (Node *)o;
}

static int
append_child(Node *parent, Node *node)
{
    if (parent->children == NULL) {
        parent->children = PyList_New(0);
        if (parent->children == NULL) {
            return -1;
        }
    }
    return PyList_Append(parent->children, (PyObject *)node);
}

static PyObject *
field(PyObject *e, Py_ssize_t i)
{
    if (PyTuple_GET_SIZE(e) <= i) {
        PyErr_Format(PyExc_IndexError, "call tree: an event has %zd fields, not the 13 of an Event",
                     PyTuple_GET_SIZE(e));
        return NULL;
    }
    return PyTuple_GET_ITEM(e, i);
}

static int
on_call(Loop *L, PyObject *e, PyObject *order_o, long long order, long long budget, long long per_root,
        long long *kept, long long *cut)
{
    PyObject *stack = L->stack, *callee, *args, *scenario;
    Py_ssize_t depth = PyList_GET_SIZE(stack);
    Node *parent = stack_node(stack, depth - 1), *top = NULL;
    if (parent == NULL || (callee = field(e, F_CALLEE)) == NULL || (args = field(e, F_DETAIL)) == NULL ||
        (scenario = field(e, F_SCENARIO)) == NULL) {
        return -1;
    }
    if (depth > 1 && (top = stack_node(stack, 1)) == NULL) {
        return -1;
    }
    PyObject *nid, *key;
    if (callee_ids(L, callee, &nid, &key) < 0) {
        return -1;
    }
    Node *node = node_make(nid, order, args);
    if (node == NULL) {
        return -1;
    }
    Py_SETREF(node->key, Py_NewRef(key));
    node->scenario = Py_NewRef(scenario);
    node->start = L->n_calls++;
    if (*kept < budget && (top == NULL || top->kept_below < per_root)) {
        *kept += 1;
        if (append_child(parent, node) < 0) {
            Py_DECREF(node);
            return -1;
        }
        if (top != NULL) {
            top->kept_below += 1;
        }
    } else {
        *cut += 1;
        PyObject *holder = parent->sig != -1 ? (PyObject *)parent : parent->holder;
        if (holder != NULL && holder != Py_None) {
            if (!Node_Check(holder)) {
                Py_DECREF(node);
                PyErr_SetString(PyExc_TypeError, "call tree: Node.holder is not a Node");
                return -1;
            }
            ((Node *)holder)->cut += 1;
        }
        node->holder = Py_XNewRef(holder);
        node->sig = -1; /* not kept */
    }
    (void)order_o; /* an open call on a stack is found there (find_open): no open_calls entry */
    int r = PyList_Append(stack, (PyObject *)node);
    Py_DECREF(node);
    return r;
}

/* open_calls[node.order] = node: an open call leaves the stacks unended (a yield, an outer call's end) */
static int
park(Loop *L, Node *node)
{
    if (node->parked || !is_open(node->outcome)) {
        return 0;
    }
    PyObject *key = PyLong_FromLongLong(node->order);
    int r = key != NULL ? PyDict_SetItem(L->open_calls, key, (PyObject *)node) : -1;
    Py_XDECREF(key);
    if (r == 0) {
        node->parked = 1;
    }
    return r;
}

/* its open_calls entry goes (it ended) */
static int
unpark(Loop *L, Node *node)
{
    if (!node->parked) {
        return 0;
    }
    node->parked = 0;
    PyObject *key = PyLong_FromLongLong(node->order);
    if (key == NULL) {
        return -1;
    }
    PyObject *o = PyDict_GetItemWithError(L->open_calls, key);
    int r = o == (PyObject *)node ? PyDict_DelItem(L->open_calls, key) : (PyErr_Occurred() ? -1 : 0);
    Py_DECREF(key);
    return r;
}

/* 1: the open call `call_id` is this stack entry (its order equals it), 0: not, -1: error */
static int
is_call(PyObject *o, PyObject *call_id, int exact, long long cid)
{
    if (!Node_Check(o)) {
        PyErr_SetString(PyExc_TypeError, "call tree: a stack entry is not a Node");
        return -1;
    }
    Node *n = (Node *)o;
    if (exact) {
        if (n->order != cid) {
            return 0;
        }
    }
    else {
        PyObject *order = PyLong_FromLongLong(n->order);
        int eq = order != NULL ? PyObject_RichCompareBool(order, call_id, Py_EQ) : -1;
        Py_XDECREF(order);
        if (eq <= 0) {
            return eq;
        }
    }
    return is_open(n->outcome);
}

static Node *
scan_stack(PyObject *stack, PyObject *call_id, int exact, long long cid)
{
    for (Py_ssize_t i = PyList_GET_SIZE(stack) - 1; i > 0; i--) { /* [0] is the thread's pseudo root */
        PyObject *o = PyList_GET_ITEM(stack, i);
        int r = is_call(o, call_id, exact, cid);
        if (r != 0) {
            return r < 0 ? NULL : (Node *)o;
        }
    }
    return NULL;
}

/* The open call `call_id` (borrowed), as CallTree._find_open finds it: on this thread's stack from the top, parked
   in open_calls, or on another thread's stack. NULL: none (or an error, set). */
static Node *
find_open(Loop *L, PyObject *call_id)
{
    if (call_id == Py_None) {
        return NULL;
    }
    long long cid = 0;
    int exact = 0;
    if (PyLong_CheckExact(call_id)) {
        int overflow;
        cid = PyLong_AsLongLongAndOverflow(call_id, &overflow);
        if (cid == -1 && PyErr_Occurred()) {
            return NULL;
        }
        exact = overflow == 0;
    }
    Node *n = scan_stack(L->stack, call_id, exact, cid);
    if (n != NULL || PyErr_Occurred()) {
        return n;
    }
    PyObject *o = PyDict_GetItemWithError(L->open_calls, call_id);
    if (o != NULL) {
        if (!Node_Check(o)) {
            PyErr_SetString(PyExc_TypeError, "call tree: an open call is not a Node");
            return NULL;
        }
        return (Node *)o;
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t pos = 0;
    PyObject *tid, *other;
    while (PyDict_Next(L->stacks, &pos, &tid, &other)) {
        if (other == L->stack || !PyList_CheckExact(other)) {
            continue;
        }
        Py_INCREF(other);
        n = scan_stack(other, call_id, exact, cid);
        Py_DECREF(other);
        if (n != NULL || PyErr_Occurred()) {
            return n;
        }
    }
    return NULL;
}

static int
on_resume(Loop *L, PyObject *call_id)
{
    PyObject *o = (PyObject *)find_open(L, call_id);
    if (o == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (PyList_Append(L->stack, o) < 0) {
        return -1;
    }
    Node *resumed = (Node *)o;
    resumed->start += L->n_calls - resumed->paused; /* calls made while suspended are not its own */
    return 0;
}

/* a return, an exception leaving, or a yield of the open call call_id */
static int
on_end(Loop *L, PyObject *e, PyObject *call_id, long kind, long long order, long long *kept)
{
    PyObject *stack = L->stack, *detail;
    Py_ssize_t depth = PyList_GET_SIZE(stack);
    PyObject *o = depth > 1 ? PyList_GET_ITEM(stack, depth - 1) : NULL;
    if (o == NULL || !Node_Check(o) || !PyLong_CheckExact(call_id) || ((Node *)o)->order != PyLong_AsLongLong(call_id)
        || ((Node *)o)->outcome != s_open) { /* not the common case (the call on top of its own stack) */
        if (PyErr_Occurred()) {
            PyErr_Clear(); /* (an int past long long: find_open compares it as Python does) */
        }
        o = (PyObject *)find_open(L, call_id);
        if (o == NULL) {
            return PyErr_Occurred() ? -1 : 0;
        }
    }
    Node *node = (Node *)Py_NewRef(o);
    int r = 0;
    if (depth > 0 && PyList_GET_ITEM(stack, depth - 1) == o) {
        Py_SET_SIZE(stack, depth - 1);
        Py_DECREF(o); /* node holds it */
    } else {
        for (Py_ssize_t i = 0; i < depth; i++) {
            if (PyList_GET_ITEM(stack, i) == o) {
                for (Py_ssize_t j = i + 1; j < depth; j++) { /* open calls that leave the stack unended */
                    PyObject *cut_off = PyList_GET_ITEM(stack, j);
                    if (!Node_Check(cut_off)) {
                        PyErr_SetString(PyExc_TypeError, "call tree: a stack entry is not a Node");
                        goto error;
                    }
                    if (park(L, (Node *)cut_off) < 0) {
                        goto error;
                    }
                }
                if (PyList_SetSlice(stack, i, depth, NULL) < 0) {
                    goto error;
                }
                break;
            }
        }
    }
    if (kind == K_YIELD) {
        node->yields += 1;
        node->paused = L->n_calls;
        if (park(L, node) < 0) {
            goto error;
        }
        goto done;
    }
    if (unpark(L, node) < 0 || (detail = field(e, F_DETAIL)) == NULL) {
        goto error;
    }
    Py_SETREF(node->outcome, Py_NewRef(kind == K_EXCEPTION ? s_raised : s_returned));
    node->last_order = order;
    Py_XSETREF(node->detail, Py_NewRef(detail));
    long long size = L->n_calls - node->start;
    node->size = size > 1 ? size : 1;
    if (node->sig == -1) { /* not kept: its signature is never compared */
        goto done;
    }
    depth = PyList_GET_SIZE(stack);
    Node *parent = NULL, *top = NULL;
    if (depth > 0 && (parent = stack_node(stack, depth - 1)) == NULL) {
        goto error;
    }
    if (depth > 1 && (top = stack_node(stack, 1)) == NULL) {
        goto error;
    }
    if (fold(parent, node, top, kept) < 0) {
        goto error;
    }
    goto done;
error:
    r = -1;
done:
    Py_DECREF(node);
    return r;
}

static int
get_ll(PyObject *tree, PyObject *name, long long *out)
{
    PyObject *o = PyObject_GetAttr(tree, name);
    if (o == NULL) {
        return -1;
    }
    *out = PyLong_AsLongLong(o);
    Py_DECREF(o);
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

static int
get_dict(PyObject *tree, PyObject *name, PyObject **out)
{
    *out = PyObject_GetAttr(tree, name);
    if (*out != NULL && !PyDict_CheckExact(*out)) {
        PyErr_Format(PyExc_TypeError, "call tree: CallTree.%U is not a dict", name);
        Py_CLEAR(*out);
    }
    return *out == NULL ? -1 : 0;
}

static int
set_ll(PyObject *tree, PyObject *name, long long v)
{
    PyObject *o = PyLong_FromLongLong(v);
    if (o == NULL) {
        return -1;
    }
    int r = PyObject_SetAttr(tree, name, o);
    Py_DECREF(o);
    return r;
}

static PyObject *
add_batch(PyObject *module, PyObject *const *argv, Py_ssize_t argc)
{
    (void)module;
    if (argc != 3) {
        PyErr_SetString(PyExc_TypeError, "add_batch(tree, batch, fold_key)");
        return NULL;
    }
    PyObject *tree = argv[0], *batch = argv[1];
    Loop L = {0};
    L.fold_key = argv[2];
    long long budget, per_root, kept, cut;
    if (!PyList_Check(batch)) {
        PyErr_SetString(PyExc_TypeError, "call tree: a batch is a list of events");
        return NULL;
    }
    if (get_dict(tree, s_stacks, &L.stacks) < 0 || get_dict(tree, s_roots, &L.roots) < 0 ||
        get_dict(tree, s_open_calls, &L.open_calls) < 0 || get_dict(tree, s_calls, &L.calls) < 0 ||
        get_dict(tree, s_last, &L.last) < 0 || get_dict(tree, s_keys, &L.keys) < 0 ||
        get_ll(tree, s_budget, &budget) < 0 || get_ll(tree, s_per_root, &per_root) < 0 ||
        get_ll(tree, s_kept, &kept) < 0 || get_ll(tree, s_cut, &cut) < 0) {
        goto fail;
    }
    int failed = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(batch) && !failed; i++) {
        PyObject *e = PyList_GET_ITEM(batch, i);
        if (!PyTuple_Check(e) || PyTuple_GET_SIZE(e) < 6) {
            PyErr_SetString(PyExc_TypeError, "call tree: an event is not an Event tuple");
            failed = 1;
            break;
        }
        Py_INCREF(e); /* the batch is a Python list: keep the event while it is used */
        PyObject *order_o = PyTuple_GET_ITEM(e, F_ORDER);
        long long order = PyLong_AsLongLong(order_o);
        long kind = 0;
        if (order == -1 && PyErr_Occurred()) {
            failed = 1;
        } else if (order >= 0) {
            kind = PyLong_AsLong(PyTuple_GET_ITEM(e, F_KIND));
            if ((kind == -1 && PyErr_Occurred()) ||
                switch_thread(&L, PyTuple_GET_ITEM(e, F_THREAD), order) < 0) {
                failed = 1;
            } else {
                Py_XSETREF(L.last_order, Py_NewRef(order_o));
                PyObject *call_id = PyTuple_GET_ITEM(e, F_CALL_ID);
                if (kind == K_CALL) {
                    failed = on_call(&L, e, order_o, order, budget, per_root, &kept, &cut) < 0;
                } else if (kind == K_RESUME) {
                    failed = on_resume(&L, call_id) < 0;
                } else {
                    failed = on_end(&L, e, call_id, kind, order, &kept) < 0;
                }
            }
        }
        Py_DECREF(e);
    }
    /* kept, cut and the running thread's counters go back to the tree even when an event failed */
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc = failed ? PyErr_GetRaisedException() : NULL;
#else
    PyObject *exc = NULL, *exc_type = NULL, *exc_tb = NULL;
    if (failed) {
        PyErr_Fetch(&exc_type, &exc, &exc_tb);
    }
#endif
    int saved = flush_thread(&L) == 0 && set_ll(tree, s_kept, kept) == 0 && set_ll(tree, s_cut, cut) == 0;
    if (failed) {
        if (!saved) {
            PyErr_Clear();
        }
#if PY_VERSION_HEX >= 0x030C0000
        PyErr_SetRaisedException(exc);
#else
        PyErr_Restore(exc_type, exc, exc_tb);
#endif
    }
    drop_thread(&L);
    drop_ids(&L);
    if (failed || !saved) {
        goto fail;
    }
    Py_DECREF(L.stacks);
    Py_DECREF(L.roots);
    Py_DECREF(L.open_calls);
    Py_DECREF(L.calls);
    Py_DECREF(L.last);
    Py_DECREF(L.keys);
    Py_RETURN_NONE;
fail:
    drop_thread(&L);
    drop_ids(&L);
    Py_XDECREF(L.stacks);
    Py_XDECREF(L.roots);
    Py_XDECREF(L.open_calls);
    Py_XDECREF(L.calls);
    Py_XDECREF(L.last);
    Py_XDECREF(L.keys);
    return NULL;
}

/* ----------------------------------------------------------------- module */

static PyMethodDef methods[] = {
    {"add_batch", (PyCFunction)(void (*)(void))add_batch, METH_FASTCALL,
     "add_batch(tree, batch, fold_key): CallTree.add_batch over the tree's containers, in C."},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_calltree", "The call tree's per-event loop in C (model/calltree.py).", -1, methods,
};

static int
intern(PyObject **slot, const char *s)
{
    *slot = PyUnicode_InternFromString(s);
    return *slot == NULL ? -1 : 0;
}

PyMODINIT_FUNC
PyInit__calltree(void)
{
    if (intern(&s_open, "open") < 0 || intern(&s_returned, "returned") < 0 || intern(&s_raised, "raised") < 0 ||
        intern(&s_node_id, "node_id") < 0 || intern(&s_stacks, "stacks") < 0 || intern(&s_roots, "roots") < 0 ||
        intern(&s_open_calls, "open_calls") < 0 || intern(&s_calls, "calls") < 0 || intern(&s_last, "last") < 0 ||
        intern(&s_keys, "_keys") < 0 || intern(&s_budget, "budget") < 0 || intern(&s_per_root, "per_root") < 0 ||
        intern(&s_kept, "kept") < 0 || intern(&s_cut, "cut") < 0) {
        return NULL;
    }
    if (PyType_Ready(&NodeType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObject(m, "Node", Py_NewRef((PyObject *)&NodeType)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
