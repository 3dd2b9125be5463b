// libjpeg-turbo decode and encode with errors turned into statuses (see imgcls_codecs.h).
#include "imgcls_codecs.h"
#include "codec_status.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

// A progressive file can hold thousands of tiny scans that each cost a full pass: cap them (djpeg -maxscans).
enum { MAX_SCANS = 1000 };

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    icc_status *status;
} error_manager;

static void fail_with(j_common_ptr cinfo, int code) {
    error_manager *err = (error_manager *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    set_status(err->status, code, text);
    longjmp(err->jump, 1);
}

static void on_error_exit(j_common_ptr cinfo) {
    int code = ICC_CORRUPT;
    switch (cinfo->err->msg_code) {
    case JERR_BAD_PRECISION:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_NOT_COMPILED:
        code = ICC_UNSUPPORTED;
        break;
    case JERR_INPUT_EMPTY:
    case JERR_INPUT_EOF:
        code = ICC_TRUNCATED;
        break;
    case JERR_OUT_OF_MEMORY:
        code = ICC_NO_MEMORY;
        break;
    default:
        break;
    }
    fail_with(cinfo, code);
}

// Warnings that mean the pixels are damaged stop the decode; the harmless ones (stray bytes between markers,
// unknown JFIF revision or Adobe transform, a bad ICC marker) are common in real files and are let through.
static void on_message(j_common_ptr cinfo, int level) {
    if (level != -1) return;  // trace messages
    switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF:
        fail_with(cinfo, ICC_TRUNCATED);
        break;
    case JWRN_ARITH_BAD_CODE:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_TOO_MUCH_DATA:
        fail_with(cinfo, ICC_CORRUPT);
        break;
    default:
        cinfo->err->num_warnings++;
        break;
    }
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void install_error_manager(error_manager *err, icc_status *status) {
    jpeg_std_error(&err->pub);
    err->pub.error_exit = on_error_exit;
    err->pub.emit_message = on_message;
    err->pub.output_message = on_output_message;
    err->status = status;
}

struct icc_jpeg_decoder {
    struct jpeg_decompress_struct cinfo;
    error_manager err;
    struct jpeg_progress_mgr progress;
};

static void on_progress(j_common_ptr cinfo) {
    if (cinfo->is_decompressor && ((j_decompress_ptr)cinfo)->input_scan_number > MAX_SCANS) {
        error_manager *err = (error_manager *)cinfo->err;
        set_status(err->status, ICC_CORRUPT, "more than 1000 progressive scans");
        longjmp(err->jump, 1);
    }
}

icc_jpeg_decoder *icc_jpeg_open(const uint8_t *data, size_t length, int scale_denom, int fast,
                                icc_jpeg_info *info, icc_status *status) {
    icc_jpeg_decoder *d = calloc(1, sizeof *d);
    if (!d) {
        set_status(status, ICC_NO_MEMORY, "out of memory");
        return NULL;
    }
    set_status(status, ICC_OK, "");
    install_error_manager(&d->err, status);
    d->cinfo.err = &d->err.pub;
    if (setjmp(d->err.jump)) {
        jpeg_destroy_decompress(&d->cinfo);
        free(d);
        return NULL;
    }
    jpeg_create_decompress(&d->cinfo);
    d->progress.progress_monitor = on_progress;
    d->cinfo.progress = &d->progress;
    jpeg_mem_src(&d->cinfo, data, (unsigned long)length);
    jpeg_read_header(&d->cinfo, TRUE);

    J_COLOR_SPACE space = d->cinfo.jpeg_color_space;
    int cmyk = space == JCS_CMYK || space == JCS_YCCK;
    d->cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGB;
    d->cinfo.scale_num = 1;
    d->cinfo.scale_denom = (unsigned)scale_denom;
    if (fast) {
        d->cinfo.dct_method = JDCT_IFAST;
        d->cinfo.do_fancy_upsampling = FALSE;
    }
    jpeg_calc_output_dimensions(&d->cinfo);

    info->image_width = d->cinfo.image_width;
    info->image_height = d->cinfo.image_height;
    info->output_width = d->cinfo.output_width;
    info->output_height = d->cinfo.output_height;
    info->components = d->cinfo.num_components;
    info->cmyk = cmyk;
    info->progressive = d->cinfo.progressive_mode;
    info->arithmetic = d->cinfo.arith_code;
    return d;
}

// Adobe's CMYK JPEGs store inverted ink values; plain CMYK ones don't.
static void cmyk_row_to_rgb(const JSAMPLE *cmyk, uint8_t *rgb, unsigned width, int inverted) {
    for (unsigned x = 0; x < width; x++, cmyk += 4, rgb += 3) {
        unsigned c = cmyk[0], m = cmyk[1], y = cmyk[2], k = cmyk[3];
        if (!inverted) {
            c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k;
        }
        rgb[0] = (uint8_t)((c * k + 127) / 255);
        rgb[1] = (uint8_t)((m * k + 127) / 255);
        rgb[2] = (uint8_t)((y * k + 127) / 255);
    }
}

int icc_jpeg_read_rgb(icc_jpeg_decoder *d, uint8_t *pixels, size_t stride, icc_status *status) {
    j_decompress_ptr cinfo = &d->cinfo;
    JSAMPLE *volatile cmyk_row = NULL;
    set_status(status, ICC_OK, "");
    d->err.status = status;
    if (setjmp(d->err.jump)) {
        free(cmyk_row);
        return -1;
    }
    jpeg_start_decompress(cinfo);
    int cmyk = cinfo->out_color_space == JCS_CMYK;
    if (cmyk) {
        cmyk_row = malloc((size_t)cinfo->output_width * 4);
        if (!cmyk_row) {
            set_status(status, ICC_NO_MEMORY, "out of memory");
            jpeg_abort_decompress(cinfo);
            return -1;
        }
    }
    while (cinfo->output_scanline < cinfo->output_height) {
        uint8_t *row = pixels + (size_t)cinfo->output_scanline * stride;
        if (cmyk) {
            JSAMPROW rows[1] = { cmyk_row };
            jpeg_read_scanlines(cinfo, rows, 1);
            cmyk_row_to_rgb(cmyk_row, row, cinfo->output_width, cinfo->saw_Adobe_marker);
        } else {
            // Hand libjpeg up to 16 destination rows at once so it can write them directly.
            JSAMPROW rows[16];
            JDIMENSION left = cinfo->output_height - cinfo->output_scanline;
            JDIMENSION count = left < 16 ? left : 16;
            for (JDIMENSION i = 0; i < count; i++) rows[i] = row + i * stride;
            jpeg_read_scanlines(cinfo, rows, count);
        }
    }
    jpeg_finish_decompress(cinfo);
    free(cmyk_row);
    return 0;
}

void icc_jpeg_close(icc_jpeg_decoder *d) {
    if (!d) return;
    jpeg_destroy_decompress(&d->cinfo);
    free(d);
}

int icc_jpeg_encode(const uint8_t *pixels, unsigned width, unsigned height, size_t stride, int components,
                    int quality, uint8_t **output, size_t *output_length, icc_status *status) {
    struct jpeg_compress_struct cinfo;
    error_manager err;
    unsigned char *volatile buffer = NULL;
    unsigned long buffer_length = 0;
    *output = NULL;
    *output_length = 0;
    set_status(status, ICC_OK, "");
    install_error_manager(&err, status);
    cinfo.err = &err.pub;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return -1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buffer, &buffer_length);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = components;
    cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *output = buffer;
    *output_length = buffer_length;
    return 0;
}
