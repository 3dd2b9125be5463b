// Thin C layer over libjpeg, libpng and giflib.
//
// libjpeg and libpng report fatal errors with longjmp. A longjmp must never cross Swift frames, so every
// function here that calls into those libraries sets its own setjmp point and returns a status instead.
// Nothing here prints: library messages are copied into `icc_status.message`.
#ifndef IMGCLS_CODECS_H
#define IMGCLS_CODECS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    ICC_OK = 0,
    ICC_TRUNCATED = 1,
    ICC_CORRUPT = 2,
    ICC_UNSUPPORTED = 3,
    ICC_NO_MEMORY = 4,
} icc_code;

typedef struct {
    int code;            // an icc_code
    char message[240];   // what the library said, for the user
} icc_status;

// ---- JPEG decode -------------------------------------------------------------------------------------------

typedef struct {
    unsigned image_width, image_height;     // as stored
    unsigned output_width, output_height;   // after scaling
    int components;                         // in the file
    int cmyk;                               // CMYK or YCCK: converted to RGB here
    int progressive, arithmetic;
} icc_jpeg_info;

typedef struct icc_jpeg_decoder icc_jpeg_decoder;

// Reads the header. `scale_denom` is 1, 2, 4 or 8; `fast` trades accuracy for speed (IFAST DCT, no fancy
// upsampling). Returns NULL and fills `status` on failure.
icc_jpeg_decoder *icc_jpeg_open(const uint8_t *data, size_t length, int scale_denom, int fast,
                                icc_jpeg_info *info, icc_status *status);
// Decodes into RGB rows of `stride` bytes (output_width * 3 at least). Returns 0 on success.
int icc_jpeg_read_rgb(icc_jpeg_decoder *decoder, uint8_t *pixels, size_t stride, icc_status *status);
void icc_jpeg_close(icc_jpeg_decoder *decoder);

// ---- JPEG encode -------------------------------------------------------------------------------------------

// `components` is 1 (gray) or 3 (RGB). On success *output is a malloc'd buffer the caller frees.
int icc_jpeg_encode(const uint8_t *pixels, unsigned width, unsigned height, size_t stride, int components,
                    int quality, uint8_t **output, size_t *output_length, icc_status *status);

// ---- PNG decode --------------------------------------------------------------------------------------------

typedef struct {
    unsigned width, height;
    int bit_depth, color_type, interlaced;
    int channels;            // of the decoded rows: 3 (RGB) or 4 (RGBA)
} icc_png_info;

typedef struct icc_png_decoder icc_png_decoder;

icc_png_decoder *icc_png_open(const uint8_t *data, size_t length, icc_png_info *info, icc_status *status);
// Decodes 8-bit RGB or RGBA rows (see info.channels), then reads to IEND so damage after the pixels is found.
int icc_png_read(icc_png_decoder *decoder, uint8_t *pixels, size_t stride, icc_status *status);
void icc_png_close(icc_png_decoder *decoder);

// ---- GIF decode (first frame) ------------------------------------------------------------------------------

typedef struct {
    unsigned screen_width, screen_height;
    unsigned left, top, width, height;       // the first frame's rectangle
    int interlaced;
    int transparent_index;                   // -1 when none
} icc_gif_info;

typedef struct icc_gif_decoder icc_gif_decoder;

icc_gif_decoder *icc_gif_open(const uint8_t *data, size_t length, icc_gif_info *info, icc_status *status);
// Draws the first frame into an RGBA canvas the caller cleared; pixels outside the canvas are clipped.
int icc_gif_read_first_frame(icc_gif_decoder *decoder, uint8_t *canvas, unsigned canvas_width,
                             unsigned canvas_height, size_t stride, icc_status *status);
void icc_gif_close(icc_gif_decoder *decoder);

#endif
