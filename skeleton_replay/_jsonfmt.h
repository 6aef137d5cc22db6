/* orjson-exact JSON writers shared by the C extensions that write JSON (events/_jsonw.c, capture/_summarise.c).
 *
 * A growing byte buffer (Buf) and the bytes orjson.dumps gives for exact None / bool / str / int / float / dict
 * (str keys) / list / tuple values: put_value; BAIL for what orjson refuses or writes otherwise (a lone
 * surrogate, an int outside [-2**63, 2**64), another type, a non-str key, nesting past MAX_DEPTH).
 * Floats: the shortest round-trip digits, plain notation for decimal exponents -5..15, else 1e-7 / 1.5e+16;
 * nan and inf as null. Strings: escapes \" \\ \b \t \n \f \r, other controls as \u00XX, non-ASCII as UTF-8.
 * Never calls user code (exact type checks only). Include after <Python.h>.
 */
#ifndef SKELETON_JSONFMT_H
#define SKELETON_JSONFMT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 128    /* deeper values are BAIL (orjson's own limit is 255) */
#define BAIL 1           /* encoder result: not ours (orjson refuses it, or the caller's twin writes it) */

typedef struct {
    char *p;
    Py_ssize_t len, cap;
} Buf;


static int
grow(Buf *b, Py_ssize_t more)
{
    Py_ssize_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    char *p = PyMem_Realloc(b->p, (size_t)cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static inline int
reserve(Buf *b, Py_ssize_t more)
{
    return b->len + more <= b->cap ? 0 : grow(b, more);
}

static inline void
put(Buf *b, const char *s, Py_ssize_t n)  /* after reserve() */
{
    memcpy(b->p + b->len, s, (size_t)n);
    b->len += n;
}

#define PUT_LIT(b, lit) put((b), (lit), (Py_ssize_t)(sizeof(lit) - 1))

static inline int
append(Buf *b, const char *s, Py_ssize_t n)
{
    if (reserve(b, n) < 0) {
        return -1;
    }
    put(b, s, n);
    return 0;
}

#define APPEND_LIT(b, lit) append((b), (lit), (Py_ssize_t)(sizeof(lit) - 1))

/* ---------------------------------------------------------------- numbers */

static const char DIGITS2[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static inline char *
write_u64(char *o, unsigned long long v)  /* at most 20 characters */
{
    char tmp[20];
    char *end = tmp + 20, *p = end;
    while (v >= 100) {
        unsigned i = (unsigned)(v % 100) * 2;
        v /= 100;
        p -= 2;
        memcpy(p, DIGITS2 + i, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, DIGITS2 + v * 2, 2);
    }
    else {
        *--p = (char)('0' + v);
    }
    memcpy(o, p, (size_t)(end - p));
    return o + (end - p);
}

static int
put_u64(Buf *b, unsigned long long v)
{
    if (reserve(b, 20) < 0) {
        return -1;
    }
    b->len = write_u64(b->p + b->len, v) - b->p;
    return 0;
}

static int
put_i64(Buf *b, long long v)
{
    if (v < 0) {
        if (APPEND_LIT(b, "-") < 0) {
            return -1;
        }
        return put_u64(b, (unsigned long long)0 - (unsigned long long)v);
    }
    return put_u64(b, (unsigned long long)v);
}

/* An exact int as orjson writes it; BAIL outside [-2**63, 2**64) (orjson refuses those). */
static int
put_int(Buf *b, PyObject *o)
{
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow == 0) {
        return put_i64(b, v);
    }
    if (overflow < 0) {
        return BAIL;
    }
    unsigned long long u = PyLong_AsUnsignedLongLong(o);
    if (u == (unsigned long long)-1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError)) {
            return -1;
        }
        PyErr_Clear();
        return BAIL;
    }
    return put_u64(b, u);
}

/* A number given as its significant digits (no leading or trailing zeros, n >= 1) and the place of
 * the decimal point (value = 0.DIGITS * 10**point), laid out as orjson lays out floats. */
static int
put_digits(Buf *b, int neg, const char *d, int n, int point)
{
    if (reserve(b, n + 32) < 0) {
        return -1;
    }
    char *o = b->p + b->len;
    if (neg) {
        *o++ = '-';
    }
    int sci = point - 1;
    if (sci >= -5 && sci < 16) {
        if (point <= 0) {  /* 0.000ddd */
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -point; i++) {
                *o++ = '0';
            }
            memcpy(o, d, (size_t)n);
            o += n;
        }
        else if (point >= n) {  /* ddd000.0 */
            memcpy(o, d, (size_t)n);
            o += n;
            for (int i = n; i < point; i++) {
                *o++ = '0';
            }
            *o++ = '.';
            *o++ = '0';
        }
        else {  /* dd.ddd */
            memcpy(o, d, (size_t)point);
            o += point;
            *o++ = '.';
            memcpy(o, d + point, (size_t)(n - point));
            o += n - point;
        }
    }
    else {  /* d.ddde+N, de-N */
        *o++ = d[0];
        if (n > 1) {
            *o++ = '.';
            memcpy(o, d + 1, (size_t)(n - 1));
            o += n - 1;
        }
        *o++ = 'e';
        *o++ = sci < 0 ? '-' : '+';
        int e = sci < 0 ? -sci : sci;
        char tmp[8];
        int i = 8;
        do {
            tmp[--i] = (char)('0' + e % 10);
            e /= 10;
        } while (e);
        memcpy(o, tmp + i, (size_t)(8 - i));
        o += 8 - i;
    }
    b->len = o - b->p;
    return 0;
}

/* A double as orjson writes it: Python's repr digits (the shortest that round-trip), orjson's layout. */
static int
put_double(Buf *b, double v)
{
    if (!isfinite(v)) {
        return APPEND_LIT(b, "null");
    }
    char *r = PyOS_double_to_string(v, 'r', 0, 0, NULL);
    if (r == NULL) {
        return -1;
    }
    const char *s = r;
    int neg = 0;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    char d[32];
    int n = 0, point = 0, seen_point = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s == '.') {
            seen_point = 1;
            continue;
        }
        if (n == 0 && *s == '0') {  /* leading zeros: move the point instead */
            if (seen_point) {
                point--;
            }
            continue;
        }
        if (n < (int)sizeof(d)) {
            d[n++] = *s;
        }
        if (!seen_point) {
            point++;
        }
    }
    if (*s == 'e') {
        point += atoi(s + 1);
    }
    PyMem_Free(r);
    while (n > 0 && d[n - 1] == '0') {
        n--;
    }
    if (n == 0) {
        return neg ? APPEND_LIT(b, "-0.0") : APPEND_LIT(b, "0.0");
    }
    return put_digits(b, neg, d, n, point);
}

/* t_ns / 1e9 as orjson writes it. Below 2**23 s the double's spacing is under 1e-9, so the
 * shortest digits that round-trip are t_ns's own with the point 9 places in (trailing zeros off). */
/* ---------------------------------------------------------------- strings */

static const char HEX[] = "0123456789abcdef";

static inline char *
put_escaped(char *o, Py_UCS4 c)  /* c < 0x80 */
{
    if (c >= 0x20 && c != '"' && c != '\\') {
        *o++ = (char)c;
        return o;
    }
    *o++ = '\\';
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\b': *o++ = 'b'; break;
    case '\t': *o++ = 't'; break;
    case '\n': *o++ = 'n'; break;
    case '\f': *o++ = 'f'; break;
    case '\r': *o++ = 'r'; break;
    default:
        *o++ = 'u';
        *o++ = '0';
        *o++ = '0';
        *o++ = HEX[c >> 4];
        *o++ = HEX[c & 15];
    }
    return o;
}

/* Whether any of the 8 bytes at p is a control (< 0x20), '"', '\\' or non-ASCII (>= 0x80): the bytes a JSON
 * string does not take as they are. Each test is the exact "some byte is zero / below n" word trick (no false
 * positive for the word as a whole). */
static inline int
word_needs_work(const Py_UCS1 *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    uint64_t below = (w - ones * 0x20) & ~w;
    uint64_t zq = (quote - ones) & ~quote, zb = (backslash - ones) & ~backslash;
    return ((below | zq | zb | w) & highs) != 0;
}

/* An exact str as a JSON string; BAIL for a lone surrogate (orjson refuses it). */
static int
put_str(Buf *b, PyObject *s)
{
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(s) < 0) {  /* a legacy string (3.11) */
        return -1;
    }
#endif
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (n > (PY_SSIZE_T_MAX - 2 - b->len) / 6 || reserve(b, n * 6 + 2) < 0) {  /* \u00XX is the longest */
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        return -1;
    }
    char *o = b->p + b->len;
    *o++ = '"';
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *p = data;
        Py_ssize_t i = 0;
        while (i < n) {
            /* 8 bytes at a time while none needs more than a copy (most of a program's text) */
            while (i + 8 <= n && !word_needs_work(p + i)) {
                memcpy(o, p + i, 8);
                o += 8;
                i += 8;
            }
            /* then byte by byte to the end of that word (or of the string) */
            Py_ssize_t stop = i + 8 < n ? i + 8 : n;
            for (; i < stop; i++) {
                Py_UCS1 c = p[i];
                if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                    *o++ = (char)c;
                }
                else if (c < 0x80) {
                    o = put_escaped(o, c);
                }
                else {
                    *o++ = (char)(0xc0 | (c >> 6));
                    *o++ = (char)(0x80 | (c & 0x3f));
                }
            }
        }
    }
    else {
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (c < 0x80) {
                o = put_escaped(o, c);
            }
            else if (c < 0x800) {
                *o++ = (char)(0xc0 | (c >> 6));
                *o++ = (char)(0x80 | (c & 0x3f));
            }
            else if (c < 0x10000) {
                if (c >= 0xd800 && c <= 0xdfff) {
                    return BAIL;
                }
                *o++ = (char)(0xe0 | (c >> 12));
                *o++ = (char)(0x80 | ((c >> 6) & 0x3f));
                *o++ = (char)(0x80 | (c & 0x3f));
            }
            else {
                *o++ = (char)(0xf0 | (c >> 18));
                *o++ = (char)(0x80 | ((c >> 12) & 0x3f));
                *o++ = (char)(0x80 | ((c >> 6) & 0x3f));
                *o++ = (char)(0x80 | (c & 0x3f));
            }
        }
    }
    *o++ = '"';
    b->len = o - b->p;
    return 0;
}

/* ---------------------------------------------------------------- values */

static int
put_value(Buf *b, PyObject *v, int depth)
{
    int r;
    if (v == Py_None) {
        return APPEND_LIT(b, "null");
    }
    if (v == Py_True) {
        return APPEND_LIT(b, "true");
    }
    if (v == Py_False) {
        return APPEND_LIT(b, "false");
    }
    if (PyUnicode_CheckExact(v)) {
        return put_str(b, v);
    }
    if (PyLong_CheckExact(v)) {
        return put_int(b, v);
    }
    if (PyFloat_CheckExact(v)) {
        return put_double(b, PyFloat_AS_DOUBLE(v));
    }
    if (depth >= MAX_DEPTH) {
        return BAIL;
    }
    if (PyDict_CheckExact(v)) {
        if (APPEND_LIT(b, "{") < 0) {
            return -1;
        }
        Py_ssize_t pos = 0;
        PyObject *key, *item;
        int first = 1;
        while (PyDict_Next(v, &pos, &key, &item)) {
            if (!PyUnicode_CheckExact(key)) {
                return BAIL;
            }
            if (!first && APPEND_LIT(b, ",") < 0) {
                return -1;
            }
            first = 0;
            if ((r = put_str(b, key)) != 0 || (r = APPEND_LIT(b, ":")) != 0
                || (r = put_value(b, item, depth + 1)) != 0) {
                return r;
            }
        }
        return APPEND_LIT(b, "}");
    }
    if (PyList_CheckExact(v) || PyTuple_CheckExact(v)) {
        int list = PyList_CheckExact(v);
        if (APPEND_LIT(b, "[") < 0) {
            return -1;
        }
        /* a list's length is read each time: nothing here runs Python code, but stay safe */
        for (Py_ssize_t i = 0; i < (list ? PyList_GET_SIZE(v) : PyTuple_GET_SIZE(v)); i++) {
            if (i && APPEND_LIT(b, ",") < 0) {
                return -1;
            }
            PyObject *item = list ? PyList_GET_ITEM(v, i) : PyTuple_GET_ITEM(v, i);
            if ((r = put_value(b, item, depth + 1)) != 0) {
                return r;
            }
        }
        return APPEND_LIT(b, "]");
    }
    return BAIL;
}

#endif  /* SKELETON_JSONFMT_H */
