/* The compiled kernels of driftwise.detect.outliers: the Isolation Forest walk and the
 * k-th smallest distance of the k-nearest-neighbour score.
 *
 * path_sums: Isolation Forest path lengths, the walk of driftwise.detect.outliers.isolation.
 *
 * The forest is flat (isolation.py builds it): node arrays over all trees, every leaf
 * pointing to itself. For each row, each tree is walked from its root until a leaf
 * (left[node] == node), going left when x[feature] <= threshold, and the leaf's path length
 * is added, tree after tree, in the order of the NumPy version. The rows' values are the
 * float32-rounded ones scikit-learn's trees compare.
 *
 * kth_smallest: per row of a float32 matrix of squared distances, its k-th smallest value
 * (a sorted buffer of the k smallest so far, one pass), as float64: what np.partition gives.
 *
 * Optional build (setup.py): without it the NumPy versions run, with the same results.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define BLOCK 256

static PyObject *path_sums(PyObject *Py_UNUSED(module), PyObject *args) {
    Py_buffer xb, lb, rb, fb, tb, vb, ob, outb;
    Py_ssize_t n, d;
    if (!PyArg_ParseTuple(args, "y*nny*y*y*y*y*y*w*", &xb, &n, &d, &lb, &rb, &fb, &tb, &vb,
                          &ob, &outb))
        return NULL;
    Py_ssize_t nodes = lb.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t trees = ob.len / (Py_ssize_t)sizeof(int64_t);
    int ok = n >= 0 && d > 0 && xb.len >= n * d * (Py_ssize_t)sizeof(double)
             && rb.len == lb.len && fb.len == lb.len
             && tb.len == nodes * (Py_ssize_t)sizeof(double)
             && vb.len == nodes * (Py_ssize_t)sizeof(double)
             && outb.len >= n * (Py_ssize_t)sizeof(double);
    if (ok) {
        const double *x = (const double *)xb.buf;
        const int64_t *left = (const int64_t *)lb.buf, *right = (const int64_t *)rb.buf;
        const int64_t *feature = (const int64_t *)fb.buf, *roots = (const int64_t *)ob.buf;
        const double *threshold = (const double *)tb.buf, *value = (const double *)vb.buf;
        double *out = (double *)outb.buf;
        Py_BEGIN_ALLOW_THREADS
        /* Tree-major within blocks of rows: one tree's nodes stay in cache while a block
         * of rows walks it; each row still adds its trees' lengths in tree order. */
        for (Py_ssize_t start = 0; start < n; start += BLOCK) {
            Py_ssize_t stop = start + BLOCK < n ? start + BLOCK : n;
            for (Py_ssize_t i = start; i < stop; i++) out[i] = 0.0;
            for (Py_ssize_t t = 0; t < trees; t++) {
                int64_t root = roots[t];
                for (Py_ssize_t i = start; i < stop; i++) {
                    const double *row = x + i * d;
                    int64_t node = root;
                    while (left[node] != node)
                        node = row[feature[node]] <= threshold[node] ? left[node] : right[node];
                    out[i] += value[node];
                }
            }
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&xb);
    PyBuffer_Release(&lb);
    PyBuffer_Release(&rb);
    PyBuffer_Release(&fb);
    PyBuffer_Release(&tb);
    PyBuffer_Release(&vb);
    PyBuffer_Release(&ob);
    PyBuffer_Release(&outb);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "iforest: inconsistent array sizes");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *kth_smallest(PyObject *Py_UNUSED(module), PyObject *args) {
    Py_buffer db, outb;
    Py_ssize_t n, m, k;
    if (!PyArg_ParseTuple(args, "y*nnnw*", &db, &n, &m, &k, &outb)) return NULL;
    int ok = n >= 0 && m > 0 && k >= 1 && k <= m && k <= 64
             && db.len >= n * m * (Py_ssize_t)sizeof(float)
             && outb.len >= n * (Py_ssize_t)sizeof(double);
    if (ok) {
        const float *d = (const float *)db.buf;
        double *out = (double *)outb.buf;
        Py_BEGIN_ALLOW_THREADS
        float best[64];
        for (Py_ssize_t i = 0; i < n; i++) {
            const float *row = d + i * m;
            Py_ssize_t filled = 0;
            for (Py_ssize_t j = 0; j < m; j++) {
                float v = row[j];
                if (filled == k && !(v < best[k - 1])) continue;
                Py_ssize_t pos = filled < k ? filled++ : k - 1;
                while (pos > 0 && best[pos - 1] > v) {
                    best[pos] = best[pos - 1];
                    pos--;
                }
                best[pos] = v;
            }
            out[i] = (double)best[k - 1];
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&db);
    PyBuffer_Release(&outb);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "kth_smallest: inconsistent sizes or k > 64");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"path_sums", path_sums, METH_VARARGS,
     "path_sums(x, n, d, left, right, feature, threshold, value, roots, out): per row, the "
     "sum over trees of the path length of the leaf it reaches, into out."},
    {"kth_smallest", kth_smallest, METH_VARARGS,
     "kth_smallest(d, n, m, k, out): per row of the n x m float32 matrix d, its k-th "
     "smallest value, into out (float64)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, methods};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
