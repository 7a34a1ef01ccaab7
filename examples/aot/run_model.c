/* run_model: run an ahead-of-time sparsec model on raw input bytes.
 *
 *   run_model MODEL.weights INPUTS.bin OUTPUTS.bin [--memory] [--repeat N]
 *
 * INPUTS.bin holds the inputs' bytes back to back (SC_MODEL_INPUT<i>_BYTES each, in
 * order, native byte order); OUTPUTS.bin receives the outputs the same way. With
 * --memory the weights file is read into memory first and loaded with
 * sc_model_create_from_memory. With --repeat N the model runs N more times and the
 * driver prints the time create took and the median and minimum time of a run to
 * stderr. The exit code is the sc_model status (0: success), or 100 for a usage or I/O
 * error of this driver.
 *
 * Build (next to model.o and model.h; see the link line in model.h):
 *   aarch64-linux-gnu-gcc -O2 -I build/model examples/aot/run_model.c build/model/model.o -lm
 */
#define _POSIX_C_SOURCE 200112L /* clock_gettime under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

static void *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t capacity = 1 << 16, used = 0;
    char *data = malloc(capacity);
    while (data) {
        size_t got = fread(data + used, 1, capacity - used, f);
        used += got;
        if (used < capacity) break;
        capacity *= 2;
        char *bigger = realloc(data, capacity);
        if (!bigger) { free(data); data = NULL; }
        data = bigger;
    }
    fclose(f);
    *size = used;
    return data;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int memory = 0, repeat = 0, bad = argc < 4;
    for (int i = 4; i < argc && !bad; i++) {
        if (strcmp(argv[i], "--memory") == 0) memory = 1;
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) repeat = atoi(argv[++i]);
        else bad = 1;
    }
    if (bad || repeat < 0) {
        fprintf(stderr, "usage: %s MODEL.weights INPUTS.bin OUTPUTS.bin [--memory] [--repeat N]\n",
                argv[0]);
        return 100;
    }
    const size_t in_bytes[] = SC_MODEL_INPUT_BYTES_LIST;
    const size_t out_bytes[] = SC_MODEL_OUTPUT_BYTES_LIST;
    int status = SC_OK;
    void *weights = NULL;
    sc_model *model;
    double started = now_ms();
    if (memory) {
        size_t size = 0;
        weights = read_file(argv[1], &size);
        if (!weights) { fprintf(stderr, "cannot read %s\n", argv[1]); return 100; }
        model = sc_model_create_from_memory(weights, size, &status);
    } else {
        model = sc_model_create(argv[1], &status);
    }
    if (!model) {
        fprintf(stderr, "sc_model_create: %s (status %d)\n", sc_model_status_message(status), status);
        free(weights);
        return status;
    }
    double create_ms = now_ms() - started;
    size_t total_in = 0, total_out = 0;
    for (int i = 0; i < SC_MODEL_NUM_INPUTS; i++) total_in += in_bytes[i];
    for (int i = 0; i < SC_MODEL_NUM_OUTPUTS; i++) total_out += out_bytes[i];
    size_t got = 0;
    char *inputs = read_file(argv[2], &got);
    if (!inputs || got != total_in) {
        fprintf(stderr, "%s: expected %zu bytes of inputs, got %zu\n", argv[2], total_in, got);
        return 100;
    }
    char *outputs = malloc(total_out ? total_out : 1);
    const void *in_ptrs[SC_MODEL_NUM_INPUTS + 1];
    void *out_ptrs[SC_MODEL_NUM_OUTPUTS + 1];
    size_t offset = 0;
    for (int i = 0; i < SC_MODEL_NUM_INPUTS; i++) { in_ptrs[i] = inputs + offset; offset += in_bytes[i]; }
    offset = 0;
    for (int i = 0; i < SC_MODEL_NUM_OUTPUTS; i++) { out_ptrs[i] = outputs + offset; offset += out_bytes[i]; }
    status = sc_model_run_buffers(model, in_ptrs, out_ptrs);
    if (status != SC_OK) {
        fprintf(stderr, "sc_model_run: %s (status %d)\n", sc_model_status_message(status), status);
        return status;
    }
    if (repeat > 0) {
        double *times = malloc(sizeof(double) * (size_t)repeat);
        for (int r = 0; r < repeat && times; r++) {
            double start = now_ms();
            sc_model_run_buffers(model, in_ptrs, out_ptrs);
            times[r] = now_ms() - start;
        }
        if (times) {
            qsort(times, (size_t)repeat, sizeof(double), by_value);
            fprintf(stderr, "create %.3f ms; run: median %.3f ms, min %.3f ms over %d runs\n",
                    create_ms, times[repeat / 2], times[0], repeat);
        }
        free(times);
    }
    FILE *f = fopen(argv[3], "wb");
    if (!f || fwrite(outputs, 1, total_out, f) != total_out) {
        fprintf(stderr, "cannot write %s\n", argv[3]);
        return 100;
    }
    fclose(f);
    sc_model_destroy(model);
    free(weights);
    free(inputs);
    free(outputs);
    return 0;
}
