/* The compiled core of driftwise.stream.ADWIN.
 *
 * The same algorithm, in the same floating-point order, as the pure-Python core
 * `_PyCore` in adwin.py (Bifet & Gavalda 2007, ADWIN2's exponential histogram; the cut test
 * in the form MOA and River use): values are buffered and inserted every `clock` values,
 * the window variance is updated per batch with Chan et al.'s pairwise formula, and each
 * split at a bucket boundary is tested. adwin.py documents the maths; this file only makes
 * the per-value path cheap (a Python call into C instead of a Python method).
 *
 * Built by setuptools as an optional extension: where no C compiler is available the
 * install still succeeds and ADWIN runs on the Python core (same alarms, same state).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static PyObject *schema_error = NULL; /* driftwise.errors.SchemaError */

typedef struct {
    double *t;       /* bucket totals, oldest first */
    double *v;       /* bucket sums of squared deviations */
    Py_ssize_t len;
    Py_ssize_t cap;
} Row;

typedef struct {
    PyObject_HEAD
    double delta;
    int64_t clock;
    int64_t max_buckets;
    int64_t min_window_length;
    int64_t grace_period;
    int64_t width;    /* values inserted in the histogram (pending ones not counted) */
    int64_t tick;
    double total;
    double variance;
    Row *rows;        /* row i holds buckets of 2**i values */
    Py_ssize_t nrows;
    Py_ssize_t rows_cap;
    double *pending;  /* capacity `clock` */
    Py_ssize_t npending;
} Core;

static int row_reserve(Row *row, Py_ssize_t need) {
    if (need <= row->cap) return 0;
    Py_ssize_t cap = row->cap ? row->cap : 8;
    while (cap < need) cap *= 2;
    double *t = PyMem_Realloc(row->t, (size_t)cap * sizeof(double));
    if (t == NULL) { PyErr_NoMemory(); return -1; }
    row->t = t;
    double *v = PyMem_Realloc(row->v, (size_t)cap * sizeof(double));
    if (v == NULL) { PyErr_NoMemory(); return -1; }
    row->v = v;
    row->cap = cap;
    return 0;
}

static int add_row(Core *self) {
    if (self->nrows == self->rows_cap) {
        Py_ssize_t cap = self->rows_cap ? self->rows_cap * 2 : 8;
        Row *rows = PyMem_Realloc(self->rows, (size_t)cap * sizeof(Row));
        if (rows == NULL) { PyErr_NoMemory(); return -1; }
        memset(rows + self->rows_cap, 0, (size_t)(cap - self->rows_cap) * sizeof(Row));
        self->rows = rows;
        self->rows_cap = cap;
    }
    self->rows[self->nrows].len = 0;
    self->nrows += 1;
    return 0;
}

static void clear_window(Core *self) {
    for (Py_ssize_t i = 0; i < self->nrows; i++) self->rows[i].len = 0;
    self->nrows = self->rows_cap ? 1 : 0;
    self->width = 0;
    self->tick = 0;
    self->total = 0.0;
    self->variance = 0.0;
    self->npending = 0;
}

static int reset_window(Core *self) {
    clear_window(self);
    if (self->nrows == 0 && add_row(self) < 0) return -1;
    return 0;
}

/* Merge the two oldest buckets of a row while it holds more than max_buckets, in batch:
 * the oldest 2q buckets pair up, q = (len - max_buckets + 1) // 2 (adwin.py explains). */
static int compress(Core *self) {
    Py_ssize_t limit = (Py_ssize_t)self->max_buckets;
    Py_ssize_t i = 0;
    double size = 1.0;
    while (self->rows[i].len > limit) {
        Py_ssize_t q = (self->rows[i].len - limit + 1) / 2;
        if (i + 1 == self->nrows && add_row(self) < 0) return -1;
        Row *row = &self->rows[i];
        Row *next = &self->rows[i + 1];
        if (row_reserve(next, next->len + q) < 0) return -1;
        row = &self->rows[i]; /* add_row may have moved the rows */
        for (Py_ssize_t k = 0; k < q; k++) {
            double a = row->t[2 * k], b = row->t[2 * k + 1];
            next->t[next->len + k] = a + b;
            if (i == 0) {
                next->v[next->len + k] = (a - b) * (a - b) / 2.0;
            } else {
                next->v[next->len + k] =
                    row->v[2 * k] + row->v[2 * k + 1] + (a - b) * (a - b) / (2.0 * size);
            }
        }
        next->len += q;
        Py_ssize_t keep = row->len - 2 * q;
        memmove(row->t, row->t + 2 * q, (size_t)keep * sizeof(double));
        memmove(row->v, row->v + 2 * q, (size_t)keep * sizeof(double));
        row->len = keep;
        i += 1;
        size *= 2.0;
    }
    return 0;
}

static int flush(Core *self) {
    Py_ssize_t m = self->npending;
    if (m == 0) return 0;
    const double *chunk = self->pending;
    double s = 0.0;
    for (Py_ssize_t k = 0; k < m; k++) s += chunk[k];
    double mean_c = s / (double)m;
    double m2_c = 0.0;
    for (Py_ssize_t k = 0; k < m; k++) m2_c += (chunk[k] - mean_c) * (chunk[k] - mean_c);
    if (self->width) {
        double mean_w = self->total / (double)self->width;
        double d = mean_c - mean_w;
        self->variance += m2_c + d * d * (double)self->width * (double)m
                          / (double)(self->width + m);
    } else {
        self->variance = m2_c;
    }
    self->total += s;
    self->width += m;
    Row *row0 = &self->rows[0];
    if (row_reserve(row0, row0->len + m) < 0) return -1;
    memcpy(row0->t + row0->len, chunk, (size_t)m * sizeof(double));
    memset(row0->v + row0->len, 0, (size_t)m * sizeof(double));
    row0->len += m;
    self->npending = 0;
    return compress(self);
}

static int cut(const Core *self) {
    int64_t width = self->width;
    if (width < 2) return 0;
    double total = self->total;
    double dd = log(2.0 * log((double)width) / self->delta);
    double c1 = 2.0 * (self->variance / (double)width) * dd;
    double c2 = 2.0 / 3.0 * dd;
    int64_t shift = self->min_window_length - 1;
    int64_t n0 = 0;
    double u0 = 0.0;
    for (Py_ssize_t i = self->nrows - 1; i >= 0; i--) {
        int64_t size = (int64_t)1 << i;
        const Row *row = &self->rows[i];
        Py_ssize_t stop = i == 0 ? row->len - 1 : row->len; /* never an empty newer part */
        for (Py_ssize_t k = 0; k < stop; k++) {
            n0 += size;
            u0 += row->t[k];
            int64_t n1 = width - n0;
            if (n0 > shift && n1 > shift) {
                double m = 1.0 / (double)(n0 - shift) + 1.0 / (double)(n1 - shift);
                double diff = u0 / (double)n0 - (total - u0) / (double)n1;
                if (diff * diff > c1 * m && fabs(diff) > sqrt(c1 * m) + c2 * m) return 1;
            }
        }
    }
    return 0;
}

/* One value: 1 alarm, 0 none, -1 error. */
static int step(Core *self, double x) {
    self->pending[self->npending++] = x;
    self->tick += 1;
    if (self->tick % self->clock) return 0;
    if (flush(self) < 0) return -1;
    if (self->width > self->grace_period && cut(self)) {
        clear_window(self);
        return 1;
    }
    return 0;
}

static int check_ready(const Core *self) {
    if (self->pending != NULL) return 0;
    PyErr_SetString(PyExc_RuntimeError, "ADWIN core used before __init__");
    return -1;
}

static PyObject *Core_update(Core *self, PyObject *arg) {
    if (check_ready(self) < 0) return NULL;
    double x = PyFloat_CheckExact(arg) ? PyFloat_AS_DOUBLE(arg) : PyFloat_AsDouble(arg);
    if (x == -1.0 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError)) return NULL;
        PyErr_Clear();
        PyErr_Format(schema_error, "update: expected a number, got %R (%s); the detector "
                     "state is unchanged", arg, Py_TYPE(arg)->tp_name);
        return NULL;
    }
    if (!isfinite(x)) {
        PyErr_Format(schema_error,
                     "update: value %R is not finite; NaN and inf are rejected (drop or impute "
                     "them before the detector); the detector state is unchanged", arg);
        return NULL;
    }
    int hit = step(self, x);
    if (hit < 0) return NULL;
    return PyBool_FromLong(hit);
}

/* A contiguous float64 buffer, already checked finite by the caller -> list of alarm positions. */
static PyObject *Core_update_many(Core *self, PyObject *arg) {
    Py_buffer view;
    if (check_ready(self) < 0) return NULL;
    if (PyObject_GetBuffer(arg, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    if (view.ndim != 1 || view.itemsize != 8 || view.format == NULL
        || strcmp(view.format, "d") != 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_TypeError, "update_many: expected a 1-d contiguous float64 array");
        return NULL;
    }
    const double *xs = (const double *)view.buf;
    Py_ssize_t n = view.shape[0];
    PyObject *alarms = PyList_New(0);
    if (alarms == NULL) { PyBuffer_Release(&view); return NULL; }
    for (Py_ssize_t i = 0; i < n; i++) {
        int hit = step(self, xs[i]);
        if (hit < 0) goto fail;
        if (hit) {
            PyObject *pos = PyLong_FromSsize_t(i);
            if (pos == NULL) goto fail;
            int rc = PyList_Append(alarms, pos);
            Py_DECREF(pos);
            if (rc < 0) goto fail;
        }
    }
    PyBuffer_Release(&view);
    return alarms;
fail:
    PyBuffer_Release(&view);
    Py_DECREF(alarms);
    return NULL;
}

static PyObject *Core_reset(Core *self, PyObject *Py_UNUSED(ignored)) {
    if (check_ready(self) < 0) return NULL;
    if (reset_window(self) < 0) return NULL;
    Py_RETURN_NONE;
}

/* The mean of the window, pending values included; reads only (a flush here would change
 * how later values are batched, and so the last bits of the variance). */
static PyObject *Core_estimation(Core *self, PyObject *Py_UNUSED(ignored)) {
    if (check_ready(self) < 0) return NULL;
    double s = self->total;
    for (Py_ssize_t k = 0; k < self->npending; k++) s += self->pending[k];
    int64_t n = self->width + self->npending;
    return PyFloat_FromDouble(n ? s / (double)n : 0.0);
}

static PyObject *Core_width(Core *self, PyObject *Py_UNUSED(ignored)) {
    return PyLong_FromLongLong((long long)(self->width + self->npending));
}

static PyObject *floats_to_list(const double *xs, Py_ssize_t n) {
    PyObject *out = PyList_New(n);
    if (out == NULL) return NULL;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *f = PyFloat_FromDouble(xs[k]);
        if (f == NULL) { Py_DECREF(out); return NULL; }
        PyList_SET_ITEM(out, k, f);
    }
    return out;
}

/* (width, total, variance, tick, totals, variances, pending), as the Python core keeps them. */
static PyObject *Core_getstate(Core *self, PyObject *Py_UNUSED(ignored)) {
    if (check_ready(self) < 0) return NULL;
    PyObject *totals = PyList_New(self->nrows);
    PyObject *variances = PyList_New(self->nrows);
    PyObject *pending = NULL;
    if (totals == NULL || variances == NULL) goto fail;
    for (Py_ssize_t i = 0; i < self->nrows; i++) {
        PyObject *t = floats_to_list(self->rows[i].t, self->rows[i].len);
        if (t == NULL) goto fail;
        PyList_SET_ITEM(totals, i, t);
        PyObject *v = floats_to_list(self->rows[i].v, self->rows[i].len);
        if (v == NULL) goto fail;
        PyList_SET_ITEM(variances, i, v);
    }
    pending = floats_to_list(self->pending, self->npending);
    if (pending == NULL) goto fail;
    return Py_BuildValue("(LddLNNN)", (long long)self->width, self->total, self->variance,
                         (long long)self->tick, totals, variances, pending);
fail:
    Py_XDECREF(totals);
    Py_XDECREF(variances);
    return NULL;
}

static int list_to_floats(PyObject *list, double *out, const char *what) {
    Py_ssize_t n = PyList_GET_SIZE(list);
    for (Py_ssize_t k = 0; k < n; k++) {
        double x = PyFloat_AsDouble(PyList_GET_ITEM(list, k));
        if (x == -1.0 && PyErr_Occurred()) {
            PyErr_Format(PyExc_TypeError, "%s[%zd] is not a number", what, k);
            return -1;
        }
        out[k] = x;
    }
    return 0;
}

/* The inverse of getstate. adwin.py validates the shapes first; this only converts. */
static PyObject *Core_setstate(Core *self, PyObject *args) {
    long long width, tick;
    double total, variance;
    PyObject *totals, *variances, *pending;
    if (!PyArg_ParseTuple(args, "LddLO!O!O!", &width, &total, &variance, &tick,
                          &PyList_Type, &totals, &PyList_Type, &variances,
                          &PyList_Type, &pending))
        return NULL;
    if (check_ready(self) < 0) return NULL;
    Py_ssize_t nrows = PyList_GET_SIZE(totals);
    if (nrows < 1 || PyList_GET_SIZE(variances) != nrows
        || PyList_GET_SIZE(pending) >= self->clock) {
        PyErr_SetString(PyExc_ValueError, "inconsistent ADWIN state");
        return NULL;
    }
    clear_window(self);
    self->nrows = 0;
    for (Py_ssize_t i = 0; i < nrows; i++) {
        PyObject *t = PyList_GET_ITEM(totals, i), *v = PyList_GET_ITEM(variances, i);
        if (!PyList_Check(t) || !PyList_Check(v) || PyList_GET_SIZE(t) != PyList_GET_SIZE(v)) {
            PyErr_SetString(PyExc_ValueError, "inconsistent ADWIN state");
            goto fail;
        }
        if (add_row(self) < 0) goto fail;
        Row *row = &self->rows[i];
        if (row_reserve(row, PyList_GET_SIZE(t)) < 0) goto fail;
        if (list_to_floats(t, row->t, "totals") < 0) goto fail;
        if (list_to_floats(v, row->v, "variances") < 0) goto fail;
        row->len = PyList_GET_SIZE(t);
    }
    if (list_to_floats(pending, self->pending, "pending") < 0) goto fail;
    self->npending = PyList_GET_SIZE(pending);
    self->width = (int64_t)width;
    self->tick = (int64_t)tick;
    self->total = total;
    self->variance = variance;
    Py_RETURN_NONE;
fail:
    reset_window(self);
    return NULL;
}

static int Core_init(Core *self, PyObject *args, PyObject *kwds) {
    static char *names[] = {"delta", "clock", "max_buckets", "min_window_length",
                            "grace_period", NULL};
    double delta;
    long long clock, max_buckets, min_window_length, grace_period;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "dLLLL", names, &delta, &clock, &max_buckets,
                                     &min_window_length, &grace_period))
        return -1;
    if (!(delta > 0.0 && delta < 1.0) || clock < 1 || max_buckets < 2
        || min_window_length < 1 || grace_period < 0) {
        PyErr_SetString(PyExc_ValueError, "invalid ADWIN parameters");
        return -1;
    }
    self->delta = delta;
    self->clock = (int64_t)clock;
    self->max_buckets = (int64_t)max_buckets;
    self->min_window_length = (int64_t)min_window_length;
    self->grace_period = (int64_t)grace_period;
    PyMem_Free(self->pending);
    self->pending = PyMem_Malloc((size_t)clock * sizeof(double));
    if (self->pending == NULL) { PyErr_NoMemory(); return -1; }
    return reset_window(self);
}

static void Core_dealloc(Core *self) {
    for (Py_ssize_t i = 0; i < self->rows_cap; i++) {
        PyMem_Free(self->rows[i].t);
        PyMem_Free(self->rows[i].v);
    }
    PyMem_Free(self->rows);
    PyMem_Free(self->pending);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Core_methods[] = {
    {"update", (PyCFunction)Core_update, METH_O, "Feed one value; True on an alarm."},
    {"update_many", (PyCFunction)Core_update_many, METH_O,
     "Feed a contiguous float64 array; the list of alarm positions."},
    {"reset", (PyCFunction)Core_reset, METH_NOARGS, "Empty the window."},
    {"estimation", (PyCFunction)Core_estimation, METH_NOARGS, "Mean of the window."},
    {"width", (PyCFunction)Core_width, METH_NOARGS, "Values in the window, pending included."},
    {"getstate", (PyCFunction)Core_getstate, METH_NOARGS, "The running state as a tuple."},
    {"setstate", (PyCFunction)Core_setstate, METH_VARARGS, "Restore getstate()'s fields."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "driftwise.stream._adwin.Core",
    .tp_doc = "The compiled ADWIN core (see driftwise.stream.ADWIN).",
    .tp_basicsize = sizeof(Core),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Core_init,
    .tp_dealloc = (destructor)Core_dealloc,
    .tp_methods = Core_methods,
};

static struct PyModuleDef adwin_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_adwin",
    .m_doc = "The compiled core of driftwise.stream.ADWIN.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__adwin(void) {
    if (PyType_Ready(&CoreType) < 0) return NULL;
    PyObject *errors = PyImport_ImportModule("driftwise.errors");
    if (errors == NULL) return NULL;
    schema_error = PyObject_GetAttrString(errors, "SchemaError");
    Py_DECREF(errors);
    if (schema_error == NULL) return NULL;
    PyObject *module = PyModule_Create(&adwin_module);
    if (module == NULL) return NULL;
    Py_INCREF(&CoreType);
    if (PyModule_AddObject(module, "Core", (PyObject *)&CoreType) < 0) {
        Py_DECREF(&CoreType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
