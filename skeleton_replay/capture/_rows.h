/* The packed spill chunk in C: the packer (capture/_speedups.c, pack_records) and the row reader
 * (events/_decode.c). The layout is capture/layout.py's (CHUNK_HEAD, ROW_*, through _layout.h); the
 * pure-Python twins are capture/records.py's pack_records / unpack_records, which write and read the
 * same bytes (tests/test_packed_chunks.py).
 *
 * A chunk: u32 records, u32 length of `others`, `others` (marshal of the list of the records that are no
 * plain event record), then a row per record, little-endian: u8 tag (SK_ROW_OTHER: the next of `others`;
 * else the event's kind), and for an event u8 flags, u32 code index, u32 thread, i64 t_ns, i64 object,
 * [i64 frame], [i64 caller], [u32 n, n bytes of detail].
 * Define SK_ROWS_WRITER and/or SK_ROWS_READER before including it for the half wanted.
 */
#ifndef SKELETON_ROWS_H
#define SKELETON_ROWS_H

#include <Python.h>
#include <marshal.h>
#include <stdint.h>
#include <string.h>

#include "_layout.h"

#if PY_LITTLE_ENDIAN != 1
#error "the packed spill chunk is written in the machine's byte order, which must be little-endian"
#endif

/* An event record's fields, as a row holds them. */
typedef struct {
    int kind;
    int flags;
    uint32_t code, thread;
    int64_t t, obj, frame, caller;
    const char *detail; /* with flags & SK_ROW_DETAIL */
    uint32_t detail_len;
} SkRow;

/* ------------------------------------------------------------------ writing */
#ifdef SK_ROWS_WRITER

typedef struct {
    char *p;
    Py_ssize_t len, cap;
    int system; /* grown with the C library's realloc, which tracemalloc does not see (SkRowQueue) */
} SkBuf;

static int
sk_buf_put(SkBuf *b, const void *data, Py_ssize_t n)
{
    if (b->len + n > b->cap) {
        Py_ssize_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) {
            if (cap > PY_SSIZE_T_MAX / 2) {
                PyErr_NoMemory();
                return -1;
            }
            cap *= 2;
        }
        char *p = b->system ? realloc(b->p, (size_t)cap) : PyMem_Realloc(b->p, cap);
        if (p == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

/* An exact int within [lo, hi] as *v (1), else 0 (no exception). */
static int
sk_int_in(PyObject *o, long long lo, long long hi, long long *v)
{
    if (!PyLong_CheckExact(o)) {
        return 0;
    }
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || (x == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    if (x < lo || x > hi) {
        return 0;
    }
    *v = x;
    return 1;
}

/* A row from an event record's fields (borrowed), all but its time (the caller sets row->t): 1, or 0 when they
   make no plain event record (no exception). `frame` NULL: the record has no frame field (then no caller);
   `caller` NULL: none. The tuples' packer (sk_row_of) and the C hooks (_speedups.c append_event) share it. */
static int
sk_row_fill(SkRow *row, PyObject *kind, PyObject *code, PyObject *thread, PyObject *detail, PyObject *obj,
            PyObject *frame, PyObject *caller)
{
    long long k, c, th, o, f = 0, cl = 0;
    if (!sk_int_in(kind, 0, SK_ROW_OTHER - 1, &k)
        || (k != SK_CALL && k != SK_RETURN && k != SK_UNWIND && k != SK_YIELD && k != SK_RESUME)) {
        return 0;
    }
    if (!sk_int_in(code, 0, UINT32_MAX, &c) || !sk_int_in(thread, 0, UINT32_MAX, &th)
        || !sk_int_in(obj, LLONG_MIN, LLONG_MAX, &o)) {
        return 0;
    }
    int flags = 0;
    if (detail != Py_None) {
        if (!PyBytes_CheckExact(detail) || PyBytes_GET_SIZE(detail) > (Py_ssize_t)UINT32_MAX) {
            return 0;
        }
        flags |= SK_ROW_DETAIL;
        row->detail = PyBytes_AS_STRING(detail);
        row->detail_len = (uint32_t)PyBytes_GET_SIZE(detail);
    }
    if (frame != NULL) {
        flags |= SK_ROW_FRAME;
        if (frame == Py_None) {
            flags |= SK_ROW_FRAME_NONE;
        }
        else if (!sk_int_in(frame, LLONG_MIN, LLONG_MAX, &f)) {
            return 0;
        }
        if (caller != NULL) {
            if (!sk_int_in(caller, LLONG_MIN, LLONG_MAX, &cl)) {
                return 0;
            }
            flags |= SK_ROW_CALLER;
        }
    }
    row->kind = (int)k;
    row->flags = flags;
    row->code = (uint32_t)c;
    row->thread = (uint32_t)th;
    row->obj = o;
    row->frame = f;
    row->caller = cl;
    return 1;
}

/* A record as a row (1), or 0: not a plain event record (it goes to `others`, as records.py's _row decides). */
static int
sk_row_of(PyObject *r, SkRow *row)
{
    if (!PyTuple_CheckExact(r)) {
        return 0;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(r);
    if (n < SK_EV_SIZE || n > SK_EV_SIZE_CALLER) {
        return 0;
    }
    long long t;
    if (!sk_int_in(PyTuple_GET_ITEM(r, SK_EV_TIME), LLONG_MIN, LLONG_MAX, &t)) {
        return 0;
    }
    row->t = t;
    return sk_row_fill(row, PyTuple_GET_ITEM(r, SK_EV_KIND), PyTuple_GET_ITEM(r, SK_EV_CODE),
                       PyTuple_GET_ITEM(r, SK_EV_THREAD), PyTuple_GET_ITEM(r, SK_EV_DETAIL),
                       PyTuple_GET_ITEM(r, SK_EV_OBJECT), n > SK_EV_FRAME ? PyTuple_GET_ITEM(r, SK_EV_FRAME) : NULL,
                       n > SK_EV_CALLER ? PyTuple_GET_ITEM(r, SK_EV_CALLER) : NULL);
}

static int
sk_put_row(SkBuf *b, const SkRow *row)
{
    char head[SK_ROW_HEAD];
    head[0] = (char)row->kind;
    head[1] = (char)row->flags;
    memcpy(head + 2, &row->code, 4);
    memcpy(head + 6, &row->thread, 4);
    memcpy(head + 10, &row->t, 8);
    memcpy(head + 18, &row->obj, 8);
    if (sk_buf_put(b, head, SK_ROW_HEAD) < 0) {
        return -1;
    }
    if ((row->flags & SK_ROW_FRAME) && !(row->flags & SK_ROW_FRAME_NONE) && sk_buf_put(b, &row->frame, 8) < 0) {
        return -1;
    }
    if ((row->flags & SK_ROW_CALLER) && sk_buf_put(b, &row->caller, 8) < 0) {
        return -1;
    }
    if (row->flags & SK_ROW_DETAIL) {
        if (sk_buf_put(b, &row->detail_len, 4) < 0 || sk_buf_put(b, row->detail, row->detail_len) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The length of the row at p (whole: written by sk_put_row). */
static Py_ssize_t
sk_row_len(const char *p)
{
    int flags = (unsigned char)p[1];
    Py_ssize_t n = SK_ROW_HEAD;
    if ((flags & SK_ROW_FRAME) && !(flags & SK_ROW_FRAME_NONE)) {
        n += 8;
    }
    if (flags & SK_ROW_CALLER) {
        n += 8;
    }
    if (flags & SK_ROW_DETAIL) {
        uint32_t d;
        memcpy(&d, p + n, 4);
        n += 4 + (Py_ssize_t)d;
    }
    return n;
}

/* The rows the C hooks write (_speedups.c append_event): no tuple, no int object per event, nothing the GC or
   tracemalloc sees. Each row's place in the record buffer (Recorder.buf) is held by the queue itself: the
   hooks append the queue object, and the packer takes the queue's next row where it meets it. So the buffer
   keeps the order of C rows and Python records, its length still counts both, and a prefix taken from it
   (Buffer.flush) packs exactly the rows it holds the places of, oldest first. */
typedef struct {
    PyObject_HEAD
    SkBuf buf;
    Py_ssize_t read;  /* offset of the oldest row waiting */
    Py_ssize_t count; /* rows waiting */
} SkRowQueue;

static int
sk_queue_put(SkRowQueue *q, const SkRow *row)
{
    if (sk_put_row(&q->buf, row) < 0) {
        return -1;
    }
    q->count++;
    return 0;
}

/* The oldest row waiting, which leaves the queue (its length in *len; it stays readable until the queue is
   settled or written to); NULL when none is left. */
static const char *
sk_queue_take(SkRowQueue *q, Py_ssize_t *len)
{
    if (q->count == 0) {
        return NULL;
    }
    const char *p = q->buf.p + q->read;
    *len = sk_row_len(p);
    q->read += *len;
    q->count--;
    return p;
}

/* Forget the newest row (its place could not be appended to the buffer). `len`: the buffer's length before it. */
static void
sk_queue_unput(SkRowQueue *q, Py_ssize_t len)
{
    q->buf.len = len;
    q->count--;
}

/* The rows taken are gone: give their room back (all of it when none is left). */
static void
sk_queue_settle(SkRowQueue *q)
{
    if (q->count == 0) {
        q->buf.len = q->read = 0;
    }
    else if (q->read > q->buf.len / 2) {
        memmove(q->buf.p, q->buf.p + q->read, q->buf.len - q->read);
        q->buf.len -= q->read;
        q->read = 0;
    }
}

/* The queue's buffer is the C library's (malloc/realloc/free): tracemalloc, which sees PyMem_*, does not see
   it grow (the program's own memory checks). */
static PyObject *
sk_queue_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    SkRowQueue *q = (SkRowQueue *)PyType_GenericNew(type, args, kwds);
    if (q != NULL) {
        q->buf.system = 1;
    }
    return (PyObject *)q;
}

static void
sk_queue_dealloc(SkRowQueue *q)
{
    free(q->buf.p);  /* (buf.system: grown with realloc) */
    Py_TYPE(q)->tp_free((PyObject *)q);
}

static PyObject *
sk_queue_clear(SkRowQueue *q, PyObject *unused)
{
    q->buf.len = q->read = q->count = 0;
    Py_RETURN_NONE;
}

/* put(record) -> bool: queue a plain event record as its row (True), as the C hooks do; False: not one (a record
   of `others`, nothing queued). Where a record's place goes is the caller's: this queue, in the list packed. */
static PyObject *
sk_queue_put_record(SkRowQueue *q, PyObject *record)
{
    SkRow row;
    if (!sk_row_of(record, &row)) {
        Py_RETURN_FALSE;
    }
    if (sk_queue_put(q, &row) < 0) {
        return NULL;
    }
    Py_RETURN_TRUE;
}

static Py_ssize_t
sk_queue_length(SkRowQueue *q)
{
    return q->count;
}

static PyMethodDef sk_queue_methods[] = {
    {"clear", (PyCFunction)sk_queue_clear, METH_NOARGS, "Forget the rows waiting (a forked child's copy)."},
    {"put", (PyCFunction)sk_queue_put_record, METH_O,
     "put(record) -> bool: queue a plain event record as its row (False: not one, nothing queued)."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods sk_queue_as_sequence = {
    .sq_length = (lenfunc)sk_queue_length,
};

static PyTypeObject SkRowQueueType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "skeleton_replay.capture._speedups.RowQueue",
    .tp_basicsize = sizeof(SkRowQueue),
    .tp_dealloc = (destructor)sk_queue_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Rows written by the C hooks, waiting for the packer (len: how many).",
    .tp_methods = sk_queue_methods,
    .tp_as_sequence = &sk_queue_as_sequence,
    .tp_new = sk_queue_new,
};

/* The chunk packed last from a list that held queued rows, with that list (strong references): packing the same
   list again (Buffer.flush writing records that a signal handler's exception interrupted) gives the same bytes,
   although its rows left their queue the first time. */
static PyObject *sk_last_records, *sk_last_chunk;

#define SK_QUEUES_TOUCHED 4

/* packed_last(records) -> bool: is this the list packed last (its rows are in that chunk, gone from their queue)? */
static PyObject *
sk_packed_last(PyObject *module, PyObject *records)
{
    return PyBool_FromLong(records == sk_last_records && sk_last_chunk != NULL);
}

/* drop_rows(records): the rows whose places these records hold leave their queues unwritten (the records are
   lost: the spill file failed). Nothing when they were packed already (packed_last). */
static PyObject *
sk_drop_rows(PyObject *module, PyObject *records)
{
    if (!PyList_Check(records)) {
        PyErr_SetString(PyExc_TypeError, "drop_rows takes a list of records");
        return NULL;
    }
    if (records == sk_last_records) {
        Py_RETURN_NONE;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(records); i++) {
        PyObject *r = PyList_GET_ITEM(records, i);
        Py_ssize_t len;
        if (Py_IS_TYPE(r, &SkRowQueueType) && sk_queue_take((SkRowQueue *)r, &len) != NULL) {
            sk_queue_settle((SkRowQueue *)r);
        }
    }
    Py_RETURN_NONE;
}

/* forget_chunk(): let go of the last chunk and its list (SpillWriter.close). */
static PyObject *
sk_forget_chunk(PyObject *module, PyObject *unused)
{
    Py_CLEAR(sk_last_records);
    Py_CLEAR(sk_last_chunk);
    Py_RETURN_NONE;
}

/* pack_records(records: list) -> bytes: records.py's pack_records, in C. */
static PyObject *
sk_pack_records(PyObject *module, PyObject *records)
{
    if (!PyList_Check(records)) {
        PyErr_SetString(PyExc_TypeError, "pack_records takes a list of records");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(records);
    if (records == sk_last_records && sk_last_chunk != NULL) {
        return Py_NewRef(sk_last_chunk);
    }
    PyObject *others = PyList_New(0), *packed = NULL, *result = NULL;
    SkBuf rows = {NULL, 0, 0, 0};
    /* the queues whose rows this chunk takes, with where they stood (put back if packing fails) */
    SkRowQueue *touched[SK_QUEUES_TOUCHED];
    Py_ssize_t touched_read[SK_QUEUES_TOUCHED], touched_count[SK_QUEUES_TOUCHED];
    int n_touched = 0;
    if (others == NULL) {
        return NULL;
    }
    if (n > (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "pack_records: too many records for one chunk");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *r = PyList_GET_ITEM(records, i);
        SkRow row;
        if (Py_IS_TYPE(r, &SkRowQueueType)) {
            SkRowQueue *q = (SkRowQueue *)r;
            int k = 0;
            while (k < n_touched && touched[k] != q) {
                k++;
            }
            if (k == n_touched) {
                if (n_touched == SK_QUEUES_TOUCHED) {
                    PyErr_SetString(PyExc_RuntimeError, "pack_records: rows of too many queues in one chunk");
                    goto done;
                }
                touched[k] = q;
                touched_read[k] = q->read;
                touched_count[k] = q->count;
                n_touched++;
            }
            Py_ssize_t len;
            const char *taken = sk_queue_take(q, &len);
            if (taken == NULL) {
                PyErr_SetString(PyExc_RuntimeError, "pack_records: the places of rows outnumber the rows queued");
                goto done;
            }
            if (sk_buf_put(&rows, taken, len) < 0) {
                goto done;
            }
        }
        else if (sk_row_of(r, &row)) {
            if (sk_put_row(&rows, &row) < 0) {
                goto done;
            }
        }
        else {
            unsigned char tag = SK_ROW_OTHER;
            if (sk_buf_put(&rows, &tag, 1) < 0 || PyList_Append(others, r) < 0) {
                goto done;
            }
        }
    }
    /* ValueError for a value marshal cannot store, as marshal.dumps raises it (Buffer._write sorts it out) */
    if ((packed = PyMarshal_WriteObjectToString(others, Py_MARSHAL_VERSION)) == NULL) {
        goto done;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(packed);
    if (size > (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "pack_records: a chunk's others are too big");
        goto done;
    }
    result = PyBytes_FromStringAndSize(NULL, SK_CHUNK_HEAD + size + rows.len);
    if (result == NULL) {
        goto done;
    }
    char *out = PyBytes_AS_STRING(result);
    uint32_t head[2] = {(uint32_t)n, (uint32_t)size};
    memcpy(out, head, SK_CHUNK_HEAD);
    memcpy(out + SK_CHUNK_HEAD, PyBytes_AS_STRING(packed), size);
    if (rows.len) {
        memcpy(out + SK_CHUNK_HEAD + size, rows.p, rows.len);
    }
    if (n_touched) {
        Py_XSETREF(sk_last_records, Py_NewRef(records));
        Py_XSETREF(sk_last_chunk, Py_NewRef(result));
    }
done:
    for (int k = 0; k < n_touched; k++) {
        if (result == NULL) {  /* nothing taken */
            touched[k]->read = touched_read[k];
            touched[k]->count = touched_count[k];
        }
        else {
            sk_queue_settle(touched[k]);
        }
    }
    PyMem_Free(rows.p);
    Py_XDECREF(packed);
    Py_DECREF(others);
    return result;
}

#endif /* SK_ROWS_WRITER */

/* ------------------------------------------------------------------ reading */
#ifdef SK_ROWS_READER

typedef struct {
    const char *p, *end;
    uint32_t records, done;
    PyObject *others; /* the list of `others` (new reference) */
    Py_ssize_t next_other;
} SkReader;

static int
sk_bad_chunk(const char *why)
{
    PyErr_Format(PyExc_ValueError, "a packed spill chunk is damaged: %s", why);
    return -1;
}

/* Open a packed chunk (the bytes object must outlive the reader): 0, or -1 with an exception. */
static int
sk_reader_open(SkReader *rd, PyObject *chunk)
{
    memset(rd, 0, sizeof(*rd));
    const char *p = PyBytes_AS_STRING(chunk);
    Py_ssize_t len = PyBytes_GET_SIZE(chunk);
    if (len < SK_CHUNK_HEAD) {
        return sk_bad_chunk("shorter than its head");
    }
    uint32_t head[2];
    memcpy(head, p, SK_CHUNK_HEAD);
    if ((Py_ssize_t)head[1] > len - SK_CHUNK_HEAD) {
        return sk_bad_chunk("others past its end");
    }
    PyObject *others = PyMarshal_ReadObjectFromString(p + SK_CHUNK_HEAD, head[1]);
    if (others == NULL) {
        return -1;
    }
    if (!PyList_CheckExact(others)) {
        Py_DECREF(others);
        return sk_bad_chunk("others is not a list");
    }
    rd->p = p + SK_CHUNK_HEAD + head[1];
    rd->end = p + len;
    rd->records = head[0];
    rd->others = others;
    return 0;
}

static void
sk_reader_close(SkReader *rd)
{
    Py_CLEAR(rd->others);
}

/* The next record: 1 with *other set (a borrowed record of `others`) or with *row filled (an event row),
   0 at the end (every row read and every other used), -1 with an exception. */
static int
sk_reader_next(SkReader *rd, SkRow *row, PyObject **other)
{
    *other = NULL;
    if (rd->done == rd->records) {
        if (rd->p != rd->end || rd->next_other != PyList_GET_SIZE(rd->others)) {
            return sk_bad_chunk("its rows do not add up");
        }
        return 0;
    }
    if (rd->p >= rd->end) {
        return sk_bad_chunk("it ends before its last row");
    }
    unsigned char tag = (unsigned char)*rd->p;
    if (tag == SK_ROW_OTHER) {
        if (rd->next_other >= PyList_GET_SIZE(rd->others)) {
            return sk_bad_chunk("more rows of others than others");
        }
        *other = PyList_GET_ITEM(rd->others, rd->next_other++);
        rd->p++;
        rd->done++;
        return 1;
    }
    if (rd->end - rd->p < SK_ROW_HEAD) {
        return sk_bad_chunk("it ends inside a row");
    }
    const char *p = rd->p;
    row->kind = tag;
    row->flags = (unsigned char)p[1];
    memcpy(&row->code, p + 2, 4);
    memcpy(&row->thread, p + 6, 4);
    memcpy(&row->t, p + 10, 8);
    memcpy(&row->obj, p + 18, 8);
    p += SK_ROW_HEAD;
    row->frame = row->caller = 0;
    if ((row->flags & SK_ROW_FRAME) && !(row->flags & SK_ROW_FRAME_NONE)) {
        if (rd->end - p < 8) {
            return sk_bad_chunk("it ends inside a row");
        }
        memcpy(&row->frame, p, 8);
        p += 8;
    }
    if (row->flags & SK_ROW_CALLER) {
        if (rd->end - p < 8) {
            return sk_bad_chunk("it ends inside a row");
        }
        memcpy(&row->caller, p, 8);
        p += 8;
    }
    row->detail = NULL;
    row->detail_len = 0;
    if (row->flags & SK_ROW_DETAIL) {
        if (rd->end - p < 4) {
            return sk_bad_chunk("it ends inside a row");
        }
        memcpy(&row->detail_len, p, 4);
        p += 4;
        if ((uint64_t)(rd->end - p) < row->detail_len) {
            return sk_bad_chunk("it ends inside a row");
        }
        row->detail = p;
        p += row->detail_len;
    }
    rd->p = p;
    rd->done++;
    return 1;
}

#endif /* SK_ROWS_READER */

#endif /* SKELETON_ROWS_H */
