/* test_npy.c -- nninit_npy_write: exact header bytes, 64-byte alignment,
 * argument errors, atomicity (no file, and no temporary left, on failure), and
 * the removal of temporaries that killed writers left behind. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nninit.h"

static char g_dir[64];

/* A fresh empty directory per test. */
static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/nninit_test_npy_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    DIR *d = opendir(g_dir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
            if (rmdir(p) != 0) unlink(p);
        }
        closedir(d);
    }
    chmod(g_dir, 0700);
    return rmdir(g_dir);
}

static void path_in_dir(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", g_dir, name); }

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* Reads a whole file; *len gets its size. */
static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* The header NumPy's format reader expects, padded as nninit writes it. */
static size_t expected_header(unsigned char *out, const char *dict) {
    size_t n = strlen(dict);
    size_t total = (10 + n + 1 + 63) / 64 * 64;
    size_t hlen = total - 10;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)(hlen & 0xff);
    out[9] = (unsigned char)(hlen >> 8);
    memcpy(out + 10, dict, n);
    memset(out + 10 + n, ' ', hlen - n - 1);
    out[total - 1] = '\n';
    return total;
}

static void test_f32_header_exact(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "a.npy");
    const float data[6] = {0.0f, 1.0f, -2.5f, 3.25f, 1e-3f, -0.0f};
    const int64_t shape[2] = {2, 3};
    assert_int_equal(nninit_npy_write(path, data, NNINIT_F32, 2, shape), NNINIT_OK);

    size_t len;
    unsigned char *buf = slurp(path, &len);
    assert_non_null(buf);
    /* 10 + 59-char dict + 1 newline = 70 -> header is 128 bytes, hlen 118. */
    static const unsigned char want_prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0};
    unsigned char want[256];
    size_t hsize = expected_header(want, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    assert_int_equal(hsize, 128);
    assert_memory_equal(buf, want_prefix, 10);
    assert_memory_equal(buf, want, hsize);
    assert_int_equal(len, hsize + sizeof data);
    if (host_is_little_endian()) assert_memory_equal(buf + hsize, data, sizeof data);
    free(buf);
}

static void test_bf16_header_exact_1d(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "b.npy");
    const uint16_t data[5] = {0x3f80, 0xbf80, 0x0000, 0x8000, 0x7f80};
    const int64_t shape[1] = {5};
    assert_int_equal(nninit_npy_write(path, data, NNINIT_BF16, 1, shape), NNINIT_OK);

    size_t len;
    unsigned char *buf = slurp(path, &len);
    assert_non_null(buf);
    unsigned char want[256];
    /* bf16 is stored as its bit patterns, '<u2'; a 1-D shape is "(5,)". */
    size_t hsize = expected_header(want, "{'descr': '<u2', 'fortran_order': False, 'shape': (5,), }");
    assert_int_equal(hsize, 128);
    assert_memory_equal(buf, want, hsize);
    assert_int_equal(len, hsize + 10);
    /* Little-endian bytes whatever the host. */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(buf[hsize + 2 * i], data[i] & 0xff);
        assert_int_equal(buf[hsize + 2 * i + 1], data[i] >> 8);
    }
    free(buf);
}

static void test_descr_per_dtype(void **state) {
    (void)state;
    static const struct {
        nninit_dtype d;
        const char *descr;
        size_t size;
    } cases[] = {
        {NNINIT_F32, "'<f4'", 4}, {NNINIT_F64, "'<f8'", 8}, {NNINIT_F16, "'<f2'", 2}, {NNINIT_BF16, "'<u2'", 2}};
    double data[4] = {1, 2, 3, 4};
    const int64_t shape[2] = {2, 2};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        path_in_dir(path, sizeof path, "d.npy");
        assert_int_equal(nninit_npy_write(path, data, cases[i].d, 2, shape), NNINIT_OK);
        size_t len;
        unsigned char *buf = slurp(path, &len);
        assert_non_null(buf);
        size_t hlen = buf[8] | (size_t)buf[9] << 8;
        char *h = strndup((const char *)buf + 10, hlen);
        assert_non_null(strstr(h, cases[i].descr));
        assert_int_equal(len, 10 + hlen + 4 * cases[i].size);
        free(h);
        free(buf);
    }
}

static void test_alignment_many_shapes(void **state) {
    (void)state;
    static const struct {
        int ndim;
        int64_t shape[8];
    } cases[] = {
        {1, {1}},
        {1, {1000}},
        {2, {64, 3}},
        {4, {64, 3, 7, 7}},
        {3, {1, 1, 1}},
        {8, {1, 1, 1, 1, 1, 1, 1, 1}},
        {8, {2, 3, 4, 5, 1, 2, 3, 2}},
        {5, {10, 10, 10, 10, 10}},
        {2, {12345, 3}},
    };
    static const nninit_dtype dtypes[] = {NNINIT_F32, NNINIT_F64, NNINIT_BF16, NNINIT_F16};
    double *data = calloc(100000, sizeof(double));
    assert_non_null(data);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t k = 0; k < 4; k++) {
            char path[256];
            path_in_dir(path, sizeof path, "al.npy");
            assert_int_equal(nninit_npy_write(path, data, dtypes[k], cases[c].ndim, cases[c].shape), NNINIT_OK);
            size_t len;
            unsigned char *buf = slurp(path, &len);
            assert_non_null(buf);
            assert_memory_equal(buf, "\x93NUMPY\x01\x00", 8);
            size_t hlen = buf[8] | (size_t)buf[9] << 8;
            assert_int_equal((10 + hlen) % 64, 0);
            assert_int_equal(buf[10 + hlen - 1], '\n');
            /* The dict names the shape exactly as a Python tuple. */
            char tuple[256];
            size_t n = 0;
            n += (size_t)snprintf(tuple + n, sizeof tuple - n, "'shape': (");
            for (int i = 0; i < cases[c].ndim; i++)
                n += (size_t)snprintf(tuple + n, sizeof tuple - n, i ? ", %lld" : "%lld", (long long)cases[c].shape[i]);
            snprintf(tuple + n, sizeof tuple - n, cases[c].ndim == 1 ? ",), }" : "), }");
            char *h = strndup((const char *)buf + 10, hlen);
            assert_non_null(strstr(h, tuple));
            int64_t numel = 1;
            for (int i = 0; i < cases[c].ndim; i++) numel *= cases[c].shape[i];
            assert_int_equal(len, 10 + hlen + (size_t)numel * nninit_dtype_size(dtypes[k]));
            free(h);
            free(buf);
        }
    }
    free(data);
}

static void test_overwrites_existing_file(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "o.npy");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("old contents, much longer than the new file will be ........................"
          "...........................................................................",
          f);
    fclose(f);
    const float data[2] = {1.0f, 2.0f};
    const int64_t shape[1] = {2};
    assert_int_equal(nninit_npy_write(path, data, NNINIT_F32, 1, shape), NNINIT_OK);
    size_t len;
    unsigned char *buf = slurp(path, &len);
    assert_non_null(buf);
    assert_int_equal(len, 128 + 8);
    assert_memory_equal(buf, "\x93NUMPY", 6);
    free(buf);
    assert_int_equal(count_entries(g_dir), 1); /* no temporary left behind */
}

static void test_null_arguments(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "n.npy");
    const float data[1] = {0};
    const int64_t shape[1] = {1};
    assert_int_equal(nninit_npy_write(NULL, data, NNINIT_F32, 1, shape), NNINIT_ERR_NULL);
    assert_int_equal(nninit_npy_write(path, NULL, NNINIT_F32, 1, shape), NNINIT_ERR_NULL);
    assert_int_equal(nninit_npy_write(path, data, NNINIT_F32, 1, NULL), NNINIT_ERR_NULL);
    assert_true(strlen(nninit_last_error()) > 0);
    assert_int_equal(count_entries(g_dir), 0);
}

static void test_bad_shape(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "s.npy");
    const float data[16] = {0};
    const int64_t ok[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const int64_t zero[2] = {2, 0};
    const int64_t neg[2] = {-1, 2};
    assert_int_equal(nninit_npy_write(path, data, NNINIT_F32, 0, ok), NNINIT_ERR_SHAPE);
    assert_int_equal(nninit_npy_write(path, data, NNINIT_F32, -1, ok), NNINIT_ERR_SHAPE);
    assert_int_equal(nninit_npy_write(path, data, NNINIT_F32, 9, ok), NNINIT_ERR_SHAPE);
    assert_int_equal(nninit_npy_write(path, data, NNINIT_F32, 2, zero), NNINIT_ERR_SHAPE);
    assert_int_equal(nninit_npy_write(path, data, NNINIT_F32, 2, neg), NNINIT_ERR_SHAPE);
    assert_true(strlen(nninit_last_error()) > 0);
    assert_int_equal(count_entries(g_dir), 0);
}

static void test_overflowing_shape(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "big.npy");
    const float data[1] = {0};
    const int64_t shape[3] = {INT64_C(1) << 31, INT64_C(1) << 31, INT64_C(1) << 31};
    nninit_status s = nninit_npy_write(path, data, NNINIT_F32, 3, shape);
    assert_int_not_equal(s, NNINIT_OK);
    assert_int_equal(count_entries(g_dir), 0);
}

static void test_bad_dtype(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "t.npy");
    const float data[1] = {0};
    const int64_t shape[1] = {1};
    assert_int_equal(nninit_npy_write(path, data, (nninit_dtype)7, 1, shape), NNINIT_ERR_DTYPE);
    assert_int_equal(nninit_npy_write(path, data, (nninit_dtype)-1, 1, shape), NNINIT_ERR_DTYPE);
    assert_int_equal(count_entries(g_dir), 0);
}

static void test_missing_directory_is_io(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "no/such/dir/x.npy");
    const float data[1] = {0};
    const int64_t shape[1] = {1};
    assert_int_equal(nninit_npy_write(path, data, NNINIT_F32, 1, shape), NNINIT_ERR_IO);
    assert_non_null(strstr(nninit_last_error(), "x.npy"));
    assert_int_equal(count_entries(g_dir), 0);
}

static void test_parent_is_a_file_is_io(void **state) {
    (void)state;
    char file[256], path[300];
    path_in_dir(file, sizeof file, "plain");
    FILE *f = fopen(file, "wb");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof path, "%s/x.npy", file);
    const float data[1] = {0};
    const int64_t shape[1] = {1};
    assert_int_equal(nninit_npy_write(path, data, NNINIT_F32, 1, shape), NNINIT_ERR_IO);
    assert_int_equal(count_entries(g_dir), 1);
}

/* rename() over a directory fails after the data was written: the temporary
 * must be removed and the directory left alone. */
static void test_target_is_directory_leaves_no_temp(void **state) {
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "adir");
    assert_int_equal(mkdir(path, 0700), 0);
    const float data[4] = {1, 2, 3, 4};
    const int64_t shape[1] = {4};
    assert_int_equal(nninit_npy_write(path, data, NNINIT_F32, 1, shape), NNINIT_ERR_IO);
    assert_int_equal(count_entries(g_dir), 1);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

/* The pid of a process that has exited and been reaped: kill(pid, 0) fails
 * with ESRCH (until the system hands the pid out again, which takes a full
 * trip round pid_max). */
static pid_t dead_pid(void) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return pid;
}

static int exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A writer killed mid-write leaves ".w.npy.nninit-tmp.<pid>.<6>"; the next
 * write to w.npy removes it. A live writer's temporary, another target's,
 * names off the pattern and a directory of the pattern stay. */
static void test_removes_dead_writers_temporaries(void **state) {
    (void)state;
    pid_t dead = dead_pid();
    char stale[256], live[256], other[256], off[256], sdir[256], path[256];
    char name[128];
    snprintf(name, sizeof name, ".w.npy.nninit-tmp.%ld.ab12CD", (long)dead);
    path_in_dir(stale, sizeof stale, name);
    snprintf(name, sizeof name, ".w.npy.nninit-tmp.%ld.ab12CD", (long)getpid());
    path_in_dir(live, sizeof live, name);
    snprintf(name, sizeof name, ".v.npy.nninit-tmp.%ld.ab12CD", (long)dead);
    path_in_dir(other, sizeof other, name);
    snprintf(name, sizeof name, ".w.npy.nninit-tmp.%ld.ab12", (long)dead);
    path_in_dir(off, sizeof off, name);
    snprintf(name, sizeof name, ".w.npy.nninit-tmp.%ld.dirDIR", (long)dead);
    path_in_dir(sdir, sizeof sdir, name);
    const char *files[] = {stale, live, other, off};
    for (int i = 0; i < 4; i++) {
        FILE *f = fopen(files[i], "wb");
        assert_non_null(f);
        fputs("partial", f);
        fclose(f);
    }
    assert_int_equal(mkdir(sdir, 0700), 0);
    path_in_dir(path, sizeof path, "w.npy");
    const float data[2] = {1.0f, 2.0f};
    const int64_t shape[1] = {2};
    assert_int_equal(nninit_npy_write(path, data, NNINIT_F32, 1, shape), NNINIT_OK);
    assert_false(exists(stale));
    assert_true(exists(live));
    assert_true(exists(other));
    assert_true(exists(off));
    assert_true(exists(sdir)); /* the library removes regular files only */
    assert_true(exists(path));
    assert_int_equal(count_entries(g_dir), 5); /* w.npy and the four kept: no new temporary */
}

/* A bare name writes and sweeps in the current directory. */
static void test_bare_name_sweeps_cwd(void **state) {
    (void)state;
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(g_dir), 0);
    char stale[128];
    snprintf(stale, sizeof stale, ".b.npy.nninit-tmp.%ld.zzzzzz", (long)dead_pid());
    FILE *f = fopen(stale, "wb");
    assert_non_null(f);
    fclose(f);
    const float data[1] = {3.0f};
    const int64_t shape[1] = {1};
    nninit_status st = nninit_npy_write("b.npy", data, NNINIT_F32, 1, shape);
    int gone = !exists(stale), there = exists("b.npy");
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(st, NNINIT_OK);
    assert_true(gone);
    assert_true(there);
    assert_int_equal(count_entries(g_dir), 1);
}

/* Permission bits do not stop root, so this one only runs unprivileged. */
static void test_unwritable_directory_is_io(void **state) {
    (void)state;
    if (geteuid() == 0) skip();
    char sub[256], path[300];
    path_in_dir(sub, sizeof sub, "ro");
    assert_int_equal(mkdir(sub, 0500), 0);
    snprintf(path, sizeof path, "%s/x.npy", sub);
    const float data[1] = {0};
    const int64_t shape[1] = {1};
    assert_int_equal(nninit_npy_write(path, data, NNINIT_F32, 1, shape), NNINIT_ERR_IO);
    assert_int_equal(count_entries(sub), 0);
    chmod(sub, 0700);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_f32_header_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bf16_header_exact_1d, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descr_per_dtype, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alignment_many_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overwrites_existing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflowing_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_dtype, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_directory_is_io, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parent_is_a_file_is_io, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_is_directory_leaves_no_temp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_directory_is_io, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removes_dead_writers_temporaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bare_name_sweeps_cwd, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
