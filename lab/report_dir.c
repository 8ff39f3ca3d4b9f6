/*
 * report_dir.c -- the lab's report directory, replaced whole (lab.h): staged
 * in a hidden sibling, fsync'd, swapped in with renameat2(RENAME_EXCHANGE),
 * the old tree removed. Nothing here prints: failures go to lab_set_error().
 */
#define _GNU_SOURCE /* renameat2 (glibc 2.28; Linux 3.15) */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "lab.h"

/* The files a report holds: anything else in a directory makes it not ours. */
static const char *const report_files[] = {LAB_REPORT_MARKER, "results.json", "results.md", "index.html"};
#define N_REPORT_FILES (sizeof report_files / sizeof report_files[0])

static int is_report_file(const char *name) {
    for (size_t k = 0; k < N_REPORT_FILES; k++) {
        long pid;
        size_t n = strlen(report_files[k]);
        if (!strcmp(name, report_files[k]) || cli_tmp_match(name, report_files[k], &pid)) return 1;
        /* the writer before the hidden pattern: "<file>.tmp.XXXXXX" */
        if (!strncmp(name, report_files[k], n) && !strncmp(name + n, ".tmp.", 5) && strlen(name + n + 5) == 6) return 1;
    }
    return 0;
}

/* A report written before the marker: results.json with meta.tool "nninit lab". */
static int legacy_report(const char *dir) {
    size_t cap = strlen(dir) + sizeof "/results.json";
    char *p = malloc(cap);
    if (!p) return 0;
    snprintf(p, cap, "%s/results.json", dir);
    char *text = cli_read_file(p, 1u << 30);
    free(p);
    if (!text) return 0;
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *tool = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "meta"), "tool");
    int ours = cJSON_IsString(tool) && !strcmp(tool->valuestring, "nninit lab");
    cJSON_Delete(j);
    return ours;
}

/* NNINIT_OK with *exists 0 (absent) or 1 (a directory we may replace). */
static nninit_status classify(const char *dir, int *exists) {
    *exists = 0;
    struct stat st;
    if (lstat(dir, &st) != 0) {
        if (errno == ENOENT) return NNINIT_OK;
        lab_set_error("cannot write the report into %s: %s", dir, strerror(errno));
        return NNINIT_ERR_IO;
    }
    if (S_ISLNK(st.st_mode)) {
        lab_set_error("%s is a symlink: refusing to replace it with the report (give the directory itself)", dir);
        return NNINIT_ERR_PARAM;
    }
    if (!S_ISDIR(st.st_mode)) {
        lab_set_error("%s exists and is not a directory: refusing to replace it with the report", dir);
        return NNINIT_ERR_PARAM;
    }
    DIR *d = opendir(dir);
    if (!d) {
        lab_set_error("cannot read %s: %s", dir, strerror(errno));
        return NNINIT_ERR_IO;
    }
    int entries = 0, marker = 0;
    char foreign[256] = "";
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        entries++;
        struct stat fs;
        int regular = fstatat(dirfd(d), e->d_name, &fs, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(fs.st_mode);
        if (regular && !strcmp(e->d_name, LAB_REPORT_MARKER)) marker = 1;
        if ((!regular || !is_report_file(e->d_name)) && !foreign[0]) snprintf(foreign, sizeof foreign, "%s", e->d_name);
    }
    closedir(d);
    if (entries && !marker && !legacy_report(dir)) {
        lab_set_error("%s is a non-empty directory and not an nninit lab report (no %s): refusing to replace it; "
                      "give a new or empty directory",
                      dir, LAB_REPORT_MARKER);
        return NNINIT_ERR_PARAM;
    }
    if (foreign[0]) {
        lab_set_error("%s holds '%s', which is not a report file: refusing to replace the directory (move that "
                      "file out, or give another directory)",
                      dir, foreign);
        return NNINIT_ERR_PARAM;
    }
    *exists = 1;
    return NNINIT_OK;
}

nninit_status lab_report_dir_check(const char *dir) {
    if (!dir) {
        lab_set_error("report: directory is NULL");
        return NNINIT_ERR_NULL;
    }
    int exists;
    return classify(dir, &exists);
}

/* mkdir -p of the parent of dir (each missing component). */
static nninit_status make_parents(const char *dir) {
    char *p = strdup(dir);
    if (!p) {
        lab_set_error("report: out of memory");
        return NNINIT_ERR_NOMEM;
    }
    char *last = strrchr(p, '/');
    for (char *s = p + 1; last && s <= last; s++) {
        if (*s != '/') continue;
        *s = '\0';
        struct stat st;
        int e = mkdir(p, 0777) == 0 || errno == EEXIST ? 0 : errno;
        if (!e && stat(p, &st) != 0) e = errno;
        else if (!e && !S_ISDIR(st.st_mode)) e = ENOTDIR;
        if (e) {
            lab_set_error("cannot create directory %s: %s", p, strerror(e));
            free(p);
            return NNINIT_ERR_IO;
        }
        *s = '/';
    }
    free(p);
    return NNINIT_OK;
}

static void sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) (void)fsync(fd), close(fd);
}

/* The parent directory of dir (malloc'ed): "." for a bare name. */
static char *parent_of(const char *dir) {
    const char *slash = strrchr(dir, '/');
    if (!slash) return strdup(".");
    if (slash == dir) return strdup("/");
    return strndup(dir, (size_t)(slash - dir));
}

static void release(lab_report_dir *t) {
    free(t->dir);
    free(t->tmp);
    t->dir = t->tmp = NULL;
}

void lab_report_dir_abort(lab_report_dir *t) {
    if (t->tmp) (void)cli_remove_tree(t->tmp);
    release(t);
}

nninit_status lab_report_dir_begin(lab_report_dir *t, const char *dir) {
    t->dir = t->tmp = NULL;
    if (!dir) {
        lab_set_error("report: directory is NULL");
        return NNINIT_ERR_NULL;
    }
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    t->dir = strndup(dir, n);
    if (!t->dir) {
        lab_set_error("report: out of memory");
        return NNINIT_ERR_NOMEM;
    }
    t->tmp = cli_tmp_template(t->dir);
    if (!t->tmp) {
        nninit_status st = errno == ENOMEM ? NNINIT_ERR_NOMEM : NNINIT_ERR_PARAM;
        if (st == NNINIT_ERR_NOMEM) lab_set_error("report: out of memory");
        else lab_set_error("'%s' is not a directory name of its own (like . or /): give one, e.g. lab-report", dir);
        release(t);
        return st;
    }
    int exists;
    nninit_status st = classify(t->dir, &exists);
    if (st == NNINIT_OK) st = make_parents(t->dir);
    if (st != NNINIT_OK) {
        release(t);
        return st;
    }
    (void)cli_tmp_sweep(t->dir); /* the staging directories of killed runs */
    if (!mkdtemp(t->tmp)) {
        lab_set_error("cannot create a directory next to %s: %s", t->dir, strerror(errno));
        release(t);
        return NNINIT_ERR_IO;
    }
    mode_t um = umask(0);
    umask(um);
    (void)chmod(t->tmp, 0777 & ~um); /* mkdtemp's 0700 would become the report's */
    return NNINIT_OK;
}

/* Two renames where RENAME_EXCHANGE is not supported: the old report to a
 * fresh temporary name (rename over an empty directory), the new one into
 * place. Between them dir is briefly absent. *old gets the old tree's name. */
static int swap_by_renames(const char *tmp, const char *dir, char **old) {
    *old = cli_tmp_template(dir);
    if (!*old || !mkdtemp(*old)) return -1;
    if (rename(dir, *old) != 0) {
        int e = errno;
        rmdir(*old);
        errno = e;
        return -1;
    }
    if (rename(tmp, dir) != 0) {
        int e = errno;
        (void)rename(*old, dir); /* put the old report back */
        errno = e;
        return -1;
    }
    return 0;
}

nninit_status lab_report_dir_commit(lab_report_dir *t) {
    if (!t->tmp || !t->dir) {
        lab_set_error("report: no staging directory to commit");
        release(t);
        return NNINIT_ERR_NULL;
    }
    sync_dir(t->tmp); /* the files are fsync'd by the atomic writer; this makes their names durable */
    int exists;
    nninit_status st = classify(t->dir, &exists); /* again: the run took minutes */
    if (st != NNINIT_OK) {
        lab_report_dir_abort(t);
        return st;
    }
    char *old = NULL;
    int rc;
    if (!exists) {
        rc = rename(t->tmp, t->dir); /* an empty directory made meanwhile is replaced too */
    } else {
        rc = renameat2(AT_FDCWD, t->tmp, AT_FDCWD, t->dir, RENAME_EXCHANGE);
        if (rc == 0) old = t->tmp, t->tmp = NULL; /* the old report now sits under the staging name */
        else if (errno == EINVAL || errno == ENOSYS) rc = swap_by_renames(t->tmp, t->dir, &old);
    }
    if (rc != 0) {
        lab_set_error("cannot move the report into %s: %s", t->dir, strerror(errno));
        if (old) (void)rmdir(old);
        free(old);
        lab_report_dir_abort(t);
        return NNINIT_ERR_IO;
    }
    if (old) (void)cli_remove_tree(old); /* killed here: a stale temporary the next run removes */
    free(old);
    char *parent = parent_of(t->dir);
    if (parent) sync_dir(parent);
    free(parent);
    free(t->tmp); /* renamed into place, or NULL */
    t->tmp = NULL;
    release(t);
    return NNINIT_OK;
}

nninit_status lab_write_report(const char *dir, const lab_result *res, int n, const lab_ctx *ctx,
                               double total_seconds) {
    lab_report_dir t;
    nninit_status st = lab_report_dir_begin(&t, dir);
    if (st != NNINIT_OK) return st;
    st = lab_report_dir_write(&t, res, n, ctx, total_seconds);
    if (st != NNINIT_OK) {
        lab_report_dir_abort(&t);
        return st;
    }
    return lab_report_dir_commit(&t);
}
