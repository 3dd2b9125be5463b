// Shared by the codec files: fill an icc_status.
#ifndef IMGCLS_CODEC_STATUS_H
#define IMGCLS_CODEC_STATUS_H

#include <stdio.h>
#include "imgcls_codecs.h"

static inline void set_status(icc_status *status, int code, const char *message) {
    status->code = code;
    snprintf(status->message, sizeof status->message, "%s", message);
}

#endif
