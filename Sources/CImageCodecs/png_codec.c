// libpng decode with errors turned into statuses (see imgcls_codecs.h).
//
// The decode is strict: libpng's warnings and "benign" errors (bad ancillary CRCs, oversized chunks, palette
// indexes past the palette) reject the file, because a training set is better without a damaged image than
// with one that decodes to something slightly wrong.
#include "imgcls_codecs.h"
#include "codec_status.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct icc_png_decoder {
    png_structp png;
    png_infop info;
    const uint8_t *data;
    size_t length, position;
    int truncated;
    icc_status *status;
};

static void on_error(png_structp png, png_const_charp message) {
    icc_png_decoder *d = png_get_error_ptr(png);
    set_status(d->status, d->truncated ? ICC_TRUNCATED : ICC_CORRUPT, message);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
    on_error(png, message);
}

static void read_bytes(png_structp png, png_bytep out, png_size_t count) {
    icc_png_decoder *d = png_get_io_ptr(png);
    if (count > d->length - d->position) {
        d->truncated = 1;
        png_error(png, "file ends early");
    }
    memcpy(out, d->data + d->position, count);
    d->position += count;
}

icc_png_decoder *icc_png_open(const uint8_t *data, size_t length, icc_png_info *info, icc_status *status) {
    icc_png_decoder *d = calloc(1, sizeof *d);
    if (!d) {
        set_status(status, ICC_NO_MEMORY, "out of memory");
        return NULL;
    }
    set_status(status, ICC_OK, "");
    d->data = data;
    d->length = length;
    d->status = status;
    d->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, d, on_error, on_warning);
    if (d->png) d->info = png_create_info_struct(d->png);
    if (!d->png || !d->info) {
        png_destroy_read_struct(&d->png, &d->info, NULL);
        free(d);
        set_status(status, ICC_NO_MEMORY, "out of memory");
        return NULL;
    }
    if (setjmp(png_jmpbuf(d->png))) {
        icc_png_close(d);
        return NULL;
    }
    png_set_read_fn(d->png, d, read_bytes);
    png_set_benign_errors(d->png, 0);
    png_set_crc_action(d->png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
    // No colour management is applied, so the colour chunks are not interpreted at all: their CRCs and
    // lengths are still checked, but a wrong ICC or sRGB profile (common on the web: "known incorrect sRGB
    // profile") no longer rejects an image whose pixels are fine.
    static const png_byte colour_chunks[] = { 'i', 'C', 'C', 'P', '\0', 's', 'R', 'G', 'B', '\0', 'g', 'A', 'M', 'A', '\0',
                                              'c', 'H', 'R', 'M', '\0' };
    png_set_keep_unknown_chunks(d->png, PNG_HANDLE_CHUNK_NEVER, colour_chunks, 4);
    png_read_info(d->png, d->info);

    int color_type = png_get_color_type(d->png, d->info);
    int bit_depth = png_get_bit_depth(d->png, d->info);
    png_set_expand(d->png);                       // palette, gray < 8 bits, tRNS -> 8-bit RGB(A)
    if (bit_depth == 16) png_set_scale_16(d->png);
    if (!(color_type & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(d->png);
    png_set_interlace_handling(d->png);
    png_read_update_info(d->png, d->info);

    info->width = png_get_image_width(d->png, d->info);
    info->height = png_get_image_height(d->png, d->info);
    info->bit_depth = bit_depth;
    info->color_type = color_type;
    info->interlaced = png_get_interlace_type(d->png, d->info) != PNG_INTERLACE_NONE;
    info->channels = png_get_channels(d->png, d->info);
    return d;
}

int icc_png_read(icc_png_decoder *d, uint8_t *pixels, size_t stride, icc_status *status) {
    set_status(status, ICC_OK, "");
    d->status = status;
    if (setjmp(png_jmpbuf(d->png))) return -1;
    int passes = png_set_interlace_handling(d->png);
    png_uint_32 height = png_get_image_height(d->png, d->info);
    // Row by row into the caller's buffer: no row-pointer array, so a tall image costs no extra memory.
    for (int pass = 0; pass < passes; pass++)
        for (png_uint_32 y = 0; y < height; y++)
            png_read_row(d->png, pixels + (size_t)y * stride, NULL);
    png_read_end(d->png, NULL);
    return 0;
}

void icc_png_close(icc_png_decoder *d) {
    if (!d) return;
    png_destroy_read_struct(&d->png, &d->info, NULL);
    free(d);
}
