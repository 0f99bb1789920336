/* SPDX-License-Identifier: MIT */
/*
 * The model store: a directory of "<name>.gguf" files. Imports are written
 * to an unnamed O_TMPFILE (or a ".import-*" file where the file system
 * lacks it), checked in full, and only then linked in under their name, so
 * a failed, cancelled or interrupted import leaves nothing visible behind.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "log.h"
#include "unicornd.h"

#define SUFFIX ".gguf"
#define TMP_PREFIX ".import-"

bool model_name_is_valid(const char *name) {
        size_t n;

        /* A name becomes a file name: no '/', no leading '.', nothing a
         * shell or a terminal would trip over. */
        if (!name)
                return false;
        n = strlen(name);
        if (n == 0 || n > MODEL_NAME_MAX || name[0] == '.' || name[0] == '-')
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '.' || *p == '_' || *p == '-' || *p == ':' || *p == '+'))
                        return false;
        return true;
}

static int model_file_name(const char *name, char *buf, size_t size) {
        if (!model_name_is_valid(name))
                return -EINVAL;
        if ((size_t) snprintf(buf, size, "%s" SUFFIX, name) >= size)
                return -ENAMETOOLONG;
        return 0;
}

static int mkdir_parents(const char *dir) {
        _cleanup_free_ char *p = strdup(dir);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int store_open(const char *dir, int *ret_fd) {
        int fd, r;

        r = mkdir_parents(dir);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", dir);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to open %s: %m", dir);
        *ret_fd = fd;
        return 0;
}

int store_cleanup(int store_fd) {
        _cleanup_close_ int dfd = -EBADF;
        DIR *d;
        struct dirent *de;

        /* Left over by an import that was interrupted (fallback path only). */
        dfd = openat(store_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        TAKE_FD(dfd);
        while ((de = readdir(d)))
                if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
                        log_info("Removing stale %s from the store.", de->d_name);
                        (void) unlinkat(store_fd, de->d_name, 0);
                }
        closedir(d);
        return 0;
}

int store_model_exists(int store_fd, const char *name) {
        char fn[MODEL_NAME_MAX + 16];
        struct stat st;
        int r = model_file_name(name, fn, sizeof fn);

        if (r < 0)
                return r;
        if (fstatat(store_fd, fn, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        return S_ISREG(st.st_mode);
}

int store_open_model(int store_fd, const char *name) {
        char fn[MODEL_NAME_MAX + 16];
        struct stat st;
        int fd, r = model_file_name(name, fn, sizeof fn);

        if (r < 0)
                return r;
        fd = openat(store_fd, fn, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return -EBADFD;
        }
        return fd;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int store_list(int store_fd, char ***ret_names, uint64_t **ret_sizes, size_t *ret_n) {
        _cleanup_close_ int dfd = -EBADF;
        char **names = NULL;
        uint64_t *sizes = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        DIR *d;
        int r = 0;

        dfd = openat(store_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        TAKE_FD(dfd);
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                struct stat st;
                char *name;

                if (l <= strlen(SUFFIX) || !streq(de->d_name + l - strlen(SUFFIX), SUFFIX))
                        continue;
                if (fstatat(store_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                name = strndup(de->d_name, l - strlen(SUFFIX));
                if (!name) {
                        r = -ENOMEM;
                        break;
                }
                if (!model_name_is_valid(name)) {
                        free(name);
                        continue;
                }
                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 16;
                        char **nn = realloc(names, nc * sizeof *nn);
                        uint64_t *ns = nn ? realloc(sizes, nc * sizeof *ns) : NULL;
                        if (nn)
                                names = nn;
                        if (ns)
                                sizes = ns;
                        if (!nn || !ns) {
                                free(name);
                                r = -ENOMEM;
                                break;
                        }
                        cap = nc;
                }
                names[n] = name;
                sizes[n] = (uint64_t) st.st_size;
                n++;
        }
        closedir(d);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(names[i]);
                free(names);
                free(sizes);
                return r;
        }
        /* Sort names and carry sizes along: simple insertion via index. */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && cmp_str(&names[j - 1], &names[j]) > 0; j--) {
                        char *t = names[j];
                        uint64_t ts = sizes[j];
                        names[j] = names[j - 1], sizes[j] = sizes[j - 1];
                        names[j - 1] = t, sizes[j - 1] = ts;
                }
        *ret_names = names;
        *ret_sizes = sizes;
        *ret_n = n;
        return 0;
}

int store_remove(int store_fd, const char *name) {
        char fn[MODEL_NAME_MAX + 16];
        int r = model_file_name(name, fn, sizeof fn);

        if (r < 0)
                return r;
        if (unlinkat(store_fd, fn, 0) < 0)
                return -errno;
        (void) fsync(store_fd);
        return 0;
}

static int copy_fd(int src, int dst, uint64_t size, uint64_t max_bytes, atomic_uint_least64_t *progress,
                   atomic_bool *cancel, char *error, size_t error_size) {
        const size_t bufsize = 1 << 20;
        _cleanup_free_ char *buf = malloc(bufsize);
        uint64_t done = 0;
        off_t off = 0;

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n, w;

                if (cancel && atomic_load(cancel)) {
                        snprintf(error, error_size, "The import was cancelled.");
                        return -ECANCELED;
                }
                /* pread: the caller's file offset is theirs, not ours. */
                n = pread(src, buf, bufsize, off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        snprintf(error, error_size, "Reading the model failed: %s", strerror(errno));
                        return -errno;
                }
                if (n == 0)
                        break;
                if (done + (uint64_t) n > max_bytes) {
                        snprintf(error, error_size, "The model is larger than the import limit of %llu bytes.",
                                 (unsigned long long) max_bytes);
                        return -EFBIG;
                }
                for (ssize_t p = 0; p < n; p += w) {
                        w = write(dst, buf + p, (size_t) (n - p));
                        if (w < 0) {
                                if (errno == EINTR) {
                                        w = 0;
                                        continue;
                                }
                                snprintf(error, error_size, "Writing to the model store failed: %s",
                                         strerror(errno));
                                return -errno;
                        }
                }
                off += n;
                done += (uint64_t) n;
                if (progress)
                        atomic_store(progress, MIN(done, size));
        }
        if (done == 0) {
                snprintf(error, error_size, "The file is empty.");
                return -EBADMSG;
        }
        return 0;
}

int store_import(int store_fd, int src_fd, const char *name, bool replace, uint64_t max_bytes,
                 atomic_uint_least64_t *progress, atomic_bool *cancel, char *error, size_t error_size) {
        char fn[MODEL_NAME_MAX + 16], tmpname[64] = "", procpath[64];
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        struct statvfs sv;
        int r;

        r = model_file_name(name, fn, sizeof fn);
        if (r < 0) {
                snprintf(error, error_size, "Invalid model name.");
                return r;
        }
        if (fstat(src_fd, &st) < 0)
                return -errno;
        if (fstatvfs(store_fd, &sv) == 0 && (uint64_t) sv.f_bavail * sv.f_frsize < (uint64_t) st.st_size) {
                snprintf(error, error_size, "Not enough space in the model store for %llu bytes.",
                         (unsigned long long) st.st_size);
                return -ENOSPC;
        }

        fd = openat(store_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
        if (fd < 0) {
                /* No O_TMPFILE on this file system: a named temporary file,
                 * removed on failure here and at the next start otherwise. */
                snprintf(tmpname, sizeof tmpname, TMP_PREFIX "%lx-%lx", (unsigned long) getpid(),
                         (unsigned long) pthread_self());
                fd = openat(store_fd, tmpname, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
                if (fd < 0) {
                        snprintf(error, error_size, "Cannot create a file in the model store: %s", strerror(errno));
                        return -errno;
                }
        }

        r = copy_fd(src_fd, fd, (uint64_t) st.st_size, max_bytes, progress, cancel, error, error_size);
        if (r >= 0 && fsync(fd) < 0) {
                r = -errno;
                snprintf(error, error_size, "Writing to the model store failed: %s", strerror(errno));
        }
        if (r >= 0) {
                /* Check the copy, not the caller's file: they may change
                 * theirs after we looked. */
                r = model_check_fd(fd, NULL, error, error_size);
                if (r < 0) {
                        char msg[ERROR_MAX];
                        snprintf(msg, sizeof msg, "%s", error[0] ? error : strerror(-r));
                        snprintf(error, error_size, "Not a usable model: %s", msg);
                        r = -EBADMSG;
                }
        }
        if (r >= 0 && cancel && atomic_load(cancel)) {
                snprintf(error, error_size, "The import was cancelled.");
                r = -ECANCELED;
        }
        if (r >= 0) {
                if (tmpname[0]) {
                        if (replace)
                                r = renameat(store_fd, tmpname, store_fd, fn) < 0 ? -errno : 0;
                        else
                                r = renameat2(store_fd, tmpname, store_fd, fn, RENAME_NOREPLACE) < 0 ? -errno : 0;
                        if (r >= 0)
                                tmpname[0] = '\0';
                } else {
                        snprintf(procpath, sizeof procpath, "/proc/self/fd/%d", fd);
                        if (!replace)
                                r = linkat(AT_FDCWD, procpath, store_fd, fn, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
                        else {
                                /* Link under a temporary name, then rename over. */
                                snprintf(tmpname, sizeof tmpname, TMP_PREFIX "%lx-%lx", (unsigned long) getpid(),
                                         (unsigned long) pthread_self());
                                r = linkat(AT_FDCWD, procpath, store_fd, tmpname, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
                                if (r >= 0) {
                                        r = renameat(store_fd, tmpname, store_fd, fn) < 0 ? -errno : 0;
                                        if (r >= 0)
                                                tmpname[0] = '\0';
                                }
                        }
                }
                if (r == -EEXIST)
                        snprintf(error, error_size, "A model named \"%s\" already exists.", name);
                else if (r < 0)
                        snprintf(error, error_size, "Cannot add the model to the store: %s", strerror(-r));
                else
                        (void) fsync(store_fd);
        }
        if (tmpname[0])
                (void) unlinkat(store_fd, tmpname, 0);
        return r;
}
