/* Crop-window JPEG decoding with libjpeg-turbo, for the fused inception-crop op.

   Why: an inception crop keeps on average about half of the image, and libjpeg-turbo can
   decode only that window: jpeg_skip_scanlines() skips the rows above it (entropy decoding
   only, no IDCT, upsampling or colour conversion), jpeg_crop_scanline() limits each row
   to the crop's iMCU columns, and decoding stops after the crop's last row. This is what
   TensorFlow's decode_and_crop_jpeg does; no Python wheel available here exposes it.

   decode_crop(data, top, left, height, width, scale_denom, out) decodes JPEG `data` at
   1/scale_denom size (DCT-domain scaling) as RGB and writes the window
   [top, top+height) x [left, left+width) of the *scaled* image into `out`, a writable
   C-contiguous uint8 buffer of at least height * out_row bytes, row-major with rows of
   out_row = (width + 64) * 3 bytes; it returns the column at which the window starts in
   each output row (crop_scanline widens the window to iMCU boundaries). Decoding runs
   without the GIL. libjpeg errors (corrupt data) become ValueError via setjmp/longjmp,
   which never crosses Python frames. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <jpeglib.h>

#define PAD_COLUMNS 64

struct error_manager {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr cinfo) {
    struct error_manager *err = (struct error_manager *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void on_message(j_common_ptr cinfo) { (void)cinfo; /* warnings: silent */ }

/* 0 on success, 1 on a libjpeg error (message in err), 2 on a bad window. */
static int decode(const unsigned char *data, unsigned long size, int top, int left,
                  int height, int width, int scale_denom, unsigned char *out,
                  Py_ssize_t out_row, int *offset, struct error_manager *err) {
    struct jpeg_decompress_struct cinfo;
    JSAMPROW row;
    JDIMENSION x, w;
    volatile int status = 0;

    cinfo.err = jpeg_std_error(&err->pub);
    err->pub.error_exit = on_error;
    err->pub.output_message = on_message;
    if (setjmp(err->jump)) {
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = JCS_RGB;
    cinfo.scale_num = 1;
    cinfo.scale_denom = (unsigned int)scale_denom;
    cinfo.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&cinfo);
    if (top < 0 || left < 0 || height <= 0 || width <= 0 ||
        (JDIMENSION)(top + height) > cinfo.output_height ||
        (JDIMENSION)(left + width) > cinfo.output_width || cinfo.output_components != 3) {
        status = 2;
    } else {
        x = (JDIMENSION)left;
        w = (JDIMENSION)width;
        jpeg_crop_scanline(&cinfo, &x, &w);  /* widens [x, x+w) to iMCU columns */
        if ((Py_ssize_t)w * 3 > out_row) {
            status = 2;
        } else {
            *offset = left - (int)x;
            if (top > 0) jpeg_skip_scanlines(&cinfo, (JDIMENSION)top);
            while (cinfo.output_scanline < (JDIMENSION)(top + height)) {
                row = out + (Py_ssize_t)(cinfo.output_scanline - top) * out_row;
                jpeg_read_scanlines(&cinfo, &row, 1);
            }
        }
    }
    jpeg_abort_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return status;
}

static PyObject *decode_crop(PyObject *self, PyObject *args) {
    Py_buffer data, out;
    int top, left, height, width, scale, offset = 0, status;
    struct error_manager err;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*iiiiiw*", &data, &top, &left, &height, &width, &scale,
                          &out))
        return NULL;
    if (scale != 1 && scale != 2 && scale != 4 && scale != 8) {
        PyBuffer_Release(&data);
        PyBuffer_Release(&out);
        return PyErr_Format(PyExc_ValueError, "scale_denom must be 1, 2, 4 or 8, got %d", scale);
    }
    if (height <= 0 || width <= 0 || out.len < (Py_ssize_t)height * (width + PAD_COLUMNS) * 3) {
        PyBuffer_Release(&data);
        PyBuffer_Release(&out);
        return PyErr_Format(PyExc_ValueError, "out must hold height x (width + %d) x 3 bytes",
                            PAD_COLUMNS);
    }
    err.message[0] = '\0';
    Py_BEGIN_ALLOW_THREADS
    status = decode((const unsigned char *)data.buf, (unsigned long)data.len, top, left,
                    height, width, scale, (unsigned char *)out.buf,
                    (Py_ssize_t)(width + PAD_COLUMNS) * 3, &offset, &err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    PyBuffer_Release(&out);
    if (status == 1) return PyErr_Format(PyExc_ValueError, "JPEG decode failed: %s", err.message);
    if (status == 2) return PyErr_Format(PyExc_ValueError, "crop window outside the image");
    return PyLong_FromLong(offset);
}

static PyMethodDef methods[] = {
    {"decode_crop", decode_crop, METH_VARARGS,
     "decode_crop(data, top, left, height, width, scale_denom, out) -> column offset"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_jpeg_crop",
    .m_doc = "Crop-window JPEG decoding (libjpeg-turbo).", .m_size = -1, .m_methods = methods};

PyMODINIT_FUNC PyInit__jpeg_crop(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL) PyModule_AddIntConstant(m, "PAD_COLUMNS", PAD_COLUMNS);
    return m;
}
