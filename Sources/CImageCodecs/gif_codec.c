// giflib decode of a GIF's first frame (see imgcls_codecs.h). giflib reports errors by return code, so this
// file needs no setjmp; it is here to keep the record loop and pointer work out of Swift.
#include "imgcls_codecs.h"
#include "codec_status.h"

#include <gif_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct icc_gif_decoder {
    GifFileType *gif;
    const uint8_t *data;
    size_t length, position;
    int transparent_index;
};

static void set_gif_error(icc_status *status, int error) {
    const char *text = GifErrorString(error);
    int code = ICC_CORRUPT;
    if (error == D_GIF_ERR_READ_FAILED || error == D_GIF_ERR_EOF_TOO_SOON) code = ICC_TRUNCATED;
    if (error == D_GIF_ERR_NOT_ENOUGH_MEM) code = ICC_NO_MEMORY;
    set_status(status, code, text ? text : "GIF decode failed");
}

static int read_bytes(GifFileType *gif, GifByteType *out, int count) {
    icc_gif_decoder *d = gif->UserData;
    size_t left = d->length - d->position;
    size_t n = (size_t)count < left ? (size_t)count : left;
    memcpy(out, d->data + d->position, n);
    d->position += n;
    return (int)n;
}

icc_gif_decoder *icc_gif_open(const uint8_t *data, size_t length, icc_gif_info *info, icc_status *status) {
    icc_gif_decoder *d = calloc(1, sizeof *d);
    if (!d) {
        set_status(status, ICC_NO_MEMORY, "out of memory");
        return NULL;
    }
    set_status(status, ICC_OK, "");
    d->data = data;
    d->length = length;
    d->transparent_index = -1;
    int error = 0;
    d->gif = DGifOpen(d, read_bytes, &error);
    if (!d->gif) {
        set_gif_error(status, error);
        free(d);
        return NULL;
    }
    // Walk records up to the first image descriptor, keeping the transparency of its graphic control block.
    for (;;) {
        GifRecordType type;
        if (DGifGetRecordType(d->gif, &type) == GIF_ERROR) goto fail;
        if (type == IMAGE_DESC_RECORD_TYPE) {
            if (DGifGetImageDesc(d->gif) == GIF_ERROR) goto fail;
            break;
        }
        if (type == TERMINATE_RECORD_TYPE) {
            set_status(status, ICC_CORRUPT, "the GIF holds no image");
            icc_gif_close(d);
            return NULL;
        }
        if (type == EXTENSION_RECORD_TYPE) {
            int code;
            GifByteType *block;
            if (DGifGetExtension(d->gif, &code, &block) == GIF_ERROR) goto fail;
            if (code == GRAPHICS_EXT_FUNC_CODE && block && block[0] >= 4)
                d->transparent_index = (block[1] & 0x01) ? block[4] : -1;
            while (block) {
                if (DGifGetExtensionNext(d->gif, &block) == GIF_ERROR) goto fail;
            }
        }
    }
    GifImageDesc *desc = &d->gif->Image;
    if (desc->Width <= 0 || desc->Height <= 0) {
        set_status(status, ICC_CORRUPT, "the first frame has no pixels");
        icc_gif_close(d);
        return NULL;
    }
    if (!desc->ColorMap && !d->gif->SColorMap) {
        set_status(status, ICC_CORRUPT, "the GIF has no colour table");
        icc_gif_close(d);
        return NULL;
    }
    info->screen_width = (unsigned)d->gif->SWidth;
    info->screen_height = (unsigned)d->gif->SHeight;
    info->left = (unsigned)desc->Left;
    info->top = (unsigned)desc->Top;
    info->width = (unsigned)desc->Width;
    info->height = (unsigned)desc->Height;
    info->interlaced = desc->Interlace ? 1 : 0;
    info->transparent_index = d->transparent_index;
    return d;
fail:
    set_gif_error(status, d->gif->Error);
    icc_gif_close(d);
    return NULL;
}

int icc_gif_read_first_frame(icc_gif_decoder *d, uint8_t *canvas, unsigned canvas_width, unsigned canvas_height,
                             size_t stride, icc_status *status) {
    set_status(status, ICC_OK, "");
    GifImageDesc *desc = &d->gif->Image;
    ColorMapObject *map = desc->ColorMap ? desc->ColorMap : d->gif->SColorMap;
    unsigned width = (unsigned)desc->Width, height = (unsigned)desc->Height;
    GifPixelType *line = malloc(width);
    if (!line) {
        set_status(status, ICC_NO_MEMORY, "out of memory");
        return -1;
    }
    // Interlaced frames store rows in four passes: every 8th from 0, every 8th from 4, every 4th from 2,
    // every 2nd from 1.
    static const unsigned first_row[4] = { 0, 4, 2, 1 }, row_step[4] = { 8, 8, 4, 2 };
    unsigned passes = desc->Interlace ? 4 : 1;
    for (unsigned pass = 0; pass < passes; pass++) {
        unsigned start = desc->Interlace ? first_row[pass] : 0, step = desc->Interlace ? row_step[pass] : 1;
        for (unsigned y = start; y < height; y += step) {
            if (DGifGetLine(d->gif, line, (int)width) == GIF_ERROR) {
                set_gif_error(status, d->gif->Error);
                free(line);
                return -1;
            }
            unsigned cy = (unsigned)desc->Top + y;
            if (cy >= canvas_height) continue;
            uint8_t *out = canvas + (size_t)cy * stride;
            for (unsigned x = 0; x < width; x++) {
                unsigned cx = (unsigned)desc->Left + x;
                if (cx >= canvas_width) break;
                int index = line[x];
                if (index == d->transparent_index) continue;  // the canvas stays transparent there
                uint8_t *p = out + (size_t)cx * 4;
                if (index < map->ColorCount) {
                    p[0] = map->Colors[index].Red;
                    p[1] = map->Colors[index].Green;
                    p[2] = map->Colors[index].Blue;
                } else {
                    p[0] = p[1] = p[2] = 0;  // past the colour table: black, as browsers draw it
                }
                p[3] = 255;
            }
        }
    }
    free(line);
    return 0;
}

void icc_gif_close(icc_gif_decoder *d) {
    if (!d) return;
    if (d->gif) DGifCloseFile(d->gif, NULL);
    free(d);
}
