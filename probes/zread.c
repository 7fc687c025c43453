/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming line reader: one input chunk and one line window, whatever the file's size. */
#include "probes/zread.h"

#include "agent/error.h"

#include <dlfcn.h>
#include <errno.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define IN_SIZE (128u * 1024u)
/* The window holds a whole line plus room to decompress into. */
#define OUT_SIZE (PST_ZREAD_LINE_MAX + 256u * 1024u)

struct pst_zread {
    enum pst_zkind kind;
    int fd;             /* -1 when reading memory */
    const uint8_t *mem; /* memory input (borrowed) */
    size_t mem_size, mem_off;
    uint8_t *in; /* compressed input chunk */
    size_t in_len, in_off;
    bool in_eof;  /* no more input */
    bool out_eof; /* decompressor finished and input exhausted */
    char *out;    /* decompressed window: [start, end) not yet returned */
    size_t start, end;
    size_t limit, total;
    long lineno;
    int error;      /* sticky error */
    bool skipping;  /* inside an over-long line */
    bool mid_frame; /* a gzip member or lz4 frame has begun and not ended */
    bool xz_done;   /* the xz decoder reached the end of its streams */
    z_stream gz;
    bool gz_init;
    lzma_stream xz;
    bool xz_init;
    LZ4F_dctx *lz4;
};

enum pst_zkind pst_zread_kind(const char *name)
{
    size_t n = strlen(name);

    if (n > 4 && strcmp(name + n - 4, ".lz4") == 0) {
        return PST_Z_LZ4;
    }
    if (n > 3 && strcmp(name + n - 3, ".gz") == 0) {
        return PST_Z_GZIP;
    }
    if (n > 3 && strcmp(name + n - 3, ".xz") == 0) {
        return PST_Z_XZ;
    }
    return PST_Z_PLAIN;
}

/*
 * The decompressors, loaded on first use. Most scans read no compressed file (apt keeps its
 * lists uncompressed unless told otherwise), and the three libraries, linked, cost every
 * command about 280 KiB of resident memory. They are loaded by their sonames from the
 * system's library path, as the dynamic linker would have loaded them.
 */
struct symbol {
    const char *name;
    void *slot; /* a function pointer of the right type, filled by dlsym */
};

static struct {
    __typeof__(inflateInit2_) *init2;
    __typeof__(inflate) *inflate;
    __typeof__(inflateReset) *reset;
    __typeof__(inflateEnd) *end;
} zlib;
static struct {
    __typeof__(lzma_stream_decoder) *decoder;
    __typeof__(lzma_code) *code;
    __typeof__(lzma_end) *end;
} xz;
static struct {
    __typeof__(LZ4F_createDecompressionContext) *create;
    __typeof__(LZ4F_freeDecompressionContext) *free;
    __typeof__(LZ4F_decompress) *decompress;
    __typeof__(LZ4F_isError) *is_error;
} lz4;

/* Loads SONAME once and fills SYMS: true when every symbol is there. */
static bool load(const char *soname, void **handle, bool *tried, struct symbol *syms, size_t n)
{
    if (*tried) {
        return *handle != NULL;
    }
    *tried = true;
    *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    for (size_t i = 0; *handle != NULL && i < n; i++) {
        void *f = dlsym(*handle, syms[i].name);
        if (f == NULL) {
            dlclose(*handle);
            *handle = NULL;
            break;
        }
        memcpy(syms[i].slot, &f, sizeof(f));
    }
    return *handle != NULL;
}

/* Makes the decompressor of KIND usable: 0, or PST_ENOTSUP when its library cannot load. */
static int load_kind(enum pst_zkind kind)
{
    static void *zlib_handle, *xz_handle, *lz4_handle;
    static bool zlib_tried, xz_tried, lz4_tried;
    struct symbol zlib_syms[] = {{"inflateInit2_", &zlib.init2},
                                 {"inflate", &zlib.inflate},
                                 {"inflateReset", &zlib.reset},
                                 {"inflateEnd", &zlib.end}};
    struct symbol xz_syms[] = {
        {"lzma_stream_decoder", &xz.decoder}, {"lzma_code", &xz.code}, {"lzma_end", &xz.end}};
    struct symbol lz4_syms[] = {{"LZ4F_createDecompressionContext", &lz4.create},
                                {"LZ4F_freeDecompressionContext", &lz4.free},
                                {"LZ4F_decompress", &lz4.decompress},
                                {"LZ4F_isError", &lz4.is_error}};
    bool ok = true;

    switch (kind) {
    case PST_Z_GZIP:
        ok = load("libz.so.1", &zlib_handle, &zlib_tried, zlib_syms, PST_COUNT(zlib_syms));
        break;
    case PST_Z_XZ:
        ok = load("liblzma.so.5", &xz_handle, &xz_tried, xz_syms, PST_COUNT(xz_syms));
        break;
    case PST_Z_LZ4:
        ok = load("liblz4.so.1", &lz4_handle, &lz4_tried, lz4_syms, PST_COUNT(lz4_syms));
        break;
    case PST_Z_PLAIN:
        break;
    }
    return ok ? PST_OK : PST_ENOTSUP;
}

static int init(enum pst_zkind kind, size_t limit, struct pst_zread **out)
{
    struct pst_zread *z = calloc(1, sizeof(*z));
    int rc = PST_OK;

    *out = NULL;
    if (z == NULL) {
        return PST_ENOMEM;
    }
    z->kind = kind;
    z->fd = -1;
    z->limit = limit;
    z->in = malloc(IN_SIZE);
    z->out = malloc(OUT_SIZE + 1);
    if (z->in == NULL || z->out == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    rc = load_kind(kind);
    if (rc != PST_OK) {
        goto out;
    }
    switch (kind) {
    case PST_Z_GZIP:
        /* 15 + 32: a gzip or zlib header, detected */
        if (zlib.init2(&z->gz, 15 + 32, ZLIB_VERSION, (int)sizeof(z_stream)) != Z_OK) {
            rc = PST_ENOMEM;
            goto out;
        }
        z->gz_init = true;
        break;
    case PST_Z_XZ: {
        lzma_stream init_xz = LZMA_STREAM_INIT;
        z->xz = init_xz;
        /* the memory limit bounds a hostile header's dictionary; apt's lists use 8 MiB */
        if (xz.decoder(&z->xz, 64u * 1024u * 1024u, LZMA_CONCATENATED) != LZMA_OK) {
            rc = PST_ENOMEM;
            goto out;
        }
        z->xz_init = true;
        break;
    }
    case PST_Z_LZ4:
        if (lz4.is_error(lz4.create(&z->lz4, LZ4F_VERSION))) {
            rc = PST_ENOMEM;
            goto out;
        }
        break;
    case PST_Z_PLAIN:
        break;
    }
out:
    if (rc != PST_OK) {
        pst_zread_free(z);
        z = NULL;
    }
    *out = z;
    return rc;
}

int pst_zread_open(struct pst_fs *fs, const char *path, enum pst_zkind kind, size_t limit,
                   struct pst_zread **out)
{
    struct stat st;
    int fd = -1;
    int rc = pst_fs_open_regular(fs, path, &fd, &st);

    *out = NULL;
    if (rc != PST_OK) {
        return rc;
    }
    rc = init(kind, limit, out);
    if (rc != PST_OK) {
        close(fd);
        return rc;
    }
    (*out)->fd = fd;
    return PST_OK;
}

int pst_zread_open_mem(const void *data, size_t size, enum pst_zkind kind, size_t limit,
                       struct pst_zread **out)
{
    int rc = init(kind, limit, out);

    if (rc == PST_OK) {
        (*out)->mem = data;
        (*out)->mem_size = size;
    }
    return rc;
}

void pst_zread_free(struct pst_zread *z)
{
    if (z == NULL) {
        return;
    }
    if (z->fd >= 0) {
        close(z->fd);
    }
    if (z->gz_init) {
        zlib.end(&z->gz);
    }
    if (z->xz_init) {
        xz.end(&z->xz);
    }
    if (z->lz4 != NULL) {
        lz4.free(z->lz4);
    }
    free(z->in);
    free(z->out);
    free(z);
}

long pst_zread_lineno(const struct pst_zread *z)
{
    return z->lineno;
}

size_t pst_zread_bytes(const struct pst_zread *z)
{
    return z->total;
}

/* Refills the input chunk when it is used up. */
static int read_input(struct pst_zread *z)
{
    ssize_t n;

    if (z->in_off < z->in_len || z->in_eof) {
        return PST_OK;
    }
    z->in_off = 0;
    z->in_len = 0;
    if (z->fd < 0) {
        size_t left = z->mem_size - z->mem_off;
        size_t take = left < IN_SIZE ? left : IN_SIZE;
        memcpy(z->in, z->mem + z->mem_off, take);
        z->mem_off += take;
        z->in_len = take;
        z->in_eof = take == 0;
        return PST_OK;
    }
    do {
        n = read(z->fd, z->in, IN_SIZE);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return PST_EIO;
    }
    z->in_len = (size_t)n;
    z->in_eof = n == 0;
    return PST_OK;
}

/* Decompresses into the window's free room [end, OUT_SIZE); sets out_eof at the end. */
static int produce(struct pst_zread *z)
{
    size_t room = OUT_SIZE - z->end;
    size_t made = 0;
    int rc = read_input(z);

    if (rc != PST_OK) {
        return rc;
    }
    if (z->in_off == z->in_len && z->in_eof) {
        if (z->kind == PST_Z_XZ && !z->xz_done) {
            /* the input has ended: let the decoder finish, or say it was cut short */
            lzma_ret xrc;
            z->xz.next_in = NULL;
            z->xz.avail_in = 0;
            z->xz.next_out = (uint8_t *)z->out + z->end;
            z->xz.avail_out = room;
            xrc = xz.code(&z->xz, LZMA_FINISH);
            made = room - z->xz.avail_out;
            if (xrc == LZMA_STREAM_END) {
                z->xz_done = true;
            } else if (xrc != LZMA_OK || made == 0) {
                return PST_EPARSE;
            }
            if (made > z->limit - z->total) {
                return PST_ETOOBIG;
            }
            z->total += made;
            z->end += made;
            return PST_OK;
        }
        if (z->mid_frame) {
            return PST_EPARSE; /* truncated inside a gzip member or an lz4 frame */
        }
        z->out_eof = true;
        return PST_OK;
    }
    switch (z->kind) {
    case PST_Z_PLAIN: {
        size_t take = z->in_len - z->in_off;
        take = take < room ? take : room;
        memcpy(z->out + z->end, z->in + z->in_off, take);
        z->in_off += take;
        made = take;
        break;
    }
    case PST_Z_GZIP: {
        int zrc;
        z->gz.next_in = z->in + z->in_off;
        z->gz.avail_in = (uInt)(z->in_len - z->in_off);
        z->gz.next_out = (Bytef *)z->out + z->end;
        z->gz.avail_out = (uInt)room;
        zrc = zlib.inflate(&z->gz, Z_NO_FLUSH);
        made = room - z->gz.avail_out;
        z->in_off = z->in_len - z->gz.avail_in;
        z->mid_frame = zrc != Z_STREAM_END;
        if (zrc == Z_STREAM_END) {
            /* another gzip member may follow, as gzip(1) allows */
            if (zlib.reset(&z->gz) != Z_OK) {
                return PST_EPARSE;
            }
        } else if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            return PST_EPARSE;
        }
        break;
    }
    case PST_Z_XZ: {
        lzma_ret xrc;
        z->xz.next_in = z->in + z->in_off;
        z->xz.avail_in = z->in_len - z->in_off;
        z->xz.next_out = (uint8_t *)z->out + z->end;
        z->xz.avail_out = room;
        xrc = xz.code(&z->xz, LZMA_RUN);
        made = room - z->xz.avail_out;
        z->in_off = z->in_len - z->xz.avail_in;
        if (xrc == LZMA_STREAM_END) {
            z->xz_done = true;
        } else if (xrc != LZMA_OK && xrc != LZMA_BUF_ERROR) {
            return xrc == LZMA_MEM_ERROR || xrc == LZMA_MEMLIMIT_ERROR ? PST_ETOOBIG : PST_EPARSE;
        }
        break;
    }
    case PST_Z_LZ4: {
        size_t dst = room;
        size_t src = z->in_len - z->in_off;
        size_t hint = lz4.decompress(z->lz4, z->out + z->end, &dst, z->in + z->in_off, &src, NULL);
        if (lz4.is_error(hint)) {
            return PST_EPARSE;
        }
        made = dst;
        z->in_off += src;
        z->mid_frame = hint != 0;
        break;
    }
    }
    if (made > z->limit - z->total) {
        return PST_ETOOBIG;
    }
    z->total += made;
    z->end += made;
    return PST_OK;
}

int pst_zread_line(struct pst_zread *z, char **line, size_t *len)
{
    for (;;) {
        char *nl;
        int rc;

        if (z->error != PST_OK) {
            return z->error;
        }
        nl = z->start < z->end ? memchr(z->out + z->start, '\n', z->end - z->start) : NULL;
        if (nl != NULL || (z->out_eof && z->start < z->end)) {
            char *s = z->out + z->start;
            size_t n = nl != NULL ? (size_t)(nl - s) : z->end - z->start;
            bool was_skipping = z->skipping;
            z->start += n + (nl != NULL);
            z->skipping = false;
            z->lineno++;
            if (was_skipping || n > PST_ZREAD_LINE_MAX) {
                return 2; /* the tail of a long line: reported once, here */
            }
            s[n] = '\0';
            if (n > 0 && s[n - 1] == '\r') {
                s[--n] = '\0';
            }
            *line = s;
            *len = n;
            return 1;
        }
        if (z->out_eof) {
            return 0;
        }
        /* No whole line in the window: make room, dropping what was returned already. */
        if (z->start > 0) {
            memmove(z->out, z->out + z->start, z->end - z->start);
            z->end -= z->start;
            z->start = 0;
        }
        if (z->end >= PST_ZREAD_LINE_MAX) {
            /* an over-long line: drop what we have and skip to its end */
            z->skipping = true;
            z->end = 0;
        }
        rc = produce(z);
        if (rc != PST_OK) {
            z->error = rc;
            return rc;
        }
    }
}
