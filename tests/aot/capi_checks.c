/* The C API's argument checks, run by test_aot_capi.py on a model with inputs and outputs:
 *
 *   capi_checks MODEL.weights
 *
 * Prints one line per failed check and exits 1 if any failed, 0 otherwise.
 */
#define _POSIX_C_SOURCE 200112L  /* posix_memalign under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static int failures = 0;
#define CHECK(cond) do { if (!(cond)) { printf("FAILED line %d: %s\n", __LINE__, #cond); failures++; } } while (0)

static unsigned char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc((size_t)n);
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) { free(data); data = NULL; }
    fclose(f);
    *size = (size_t)n;
    return data;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    int status = -1;
    const size_t in_bytes[] = SC_MODEL_INPUT_BYTES_LIST;
    const size_t out_bytes[] = SC_MODEL_OUTPUT_BYTES_LIST;

    /* create: NULL path, status optional, missing file */
    CHECK(sc_model_create(NULL, &status) == NULL && status == SC_ERR_NULL_ARGUMENT);
    CHECK(sc_model_create(NULL, NULL) == NULL);
    status = -1;
    CHECK(sc_model_create("/nonexistent/model.weights", &status) == NULL && status == SC_ERR_OPEN);
    status = -1;
    CHECK(sc_model_create("/", &status) == NULL && status != SC_OK);  /* a directory */

    /* from memory: NULL data, too short for a header, one byte short, one byte long */
    size_t size = 0;
    unsigned char *file = read_all(argv[1], &size);
    CHECK(file != NULL && size == SC_MODEL_WEIGHTS_FILE_BYTES);
    status = -1;
    CHECK(sc_model_create_from_memory(NULL, size, &status) == NULL && status == SC_ERR_NULL_ARGUMENT);
    status = -1;
    CHECK(sc_model_create_from_memory(file, 10, &status) == NULL && status == SC_ERR_TRUNCATED);
    status = -1;
    CHECK(sc_model_create_from_memory(file, size - 1, &status) == NULL && status == SC_ERR_TRUNCATED);
    unsigned char *longer = malloc(size + 1);
    memcpy(longer, file, size);
    longer[size] = 0;
    status = -1;
    CHECK(sc_model_create_from_memory(longer, size + 1, &status) == NULL && status == SC_ERR_TRAILING_DATA);

    /* in place: a copy whose payload (data + 64) is 64-byte aligned */
    void *aligned = NULL;
    CHECK(posix_memalign(&aligned, 64, size) == 0);
    memcpy(aligned, file, size);
    status = -1;
    sc_model *in_place = sc_model_create_from_memory(aligned, size, &status);
    CHECK(in_place != NULL && status == SC_OK);
    /* unaligned: copied */
    unsigned char *odd = malloc(size + 4);
    memcpy(odd + 4, file, size);
    status = -1;
    sc_model *copied = sc_model_create_from_memory(odd + 4, size, &status);
    CHECK(copied != NULL && status == SC_OK);
    free(odd);  /* the model holds its own copy */
    status = -1;
    sc_model *loaded = sc_model_create(argv[1], &status);
    CHECK(loaded != NULL && status == SC_OK);

    /* run: NULL model, NULL arrays, NULL elements */
    const void *ins[SC_MODEL_NUM_INPUTS];
    void *outs[SC_MODEL_NUM_OUTPUTS];
    void *expected[SC_MODEL_NUM_OUTPUTS];
    for (int i = 0; i < SC_MODEL_NUM_INPUTS; i++) ins[i] = calloc(1, in_bytes[i]);
    for (int i = 0; i < SC_MODEL_NUM_OUTPUTS; i++) {
        outs[i] = calloc(1, out_bytes[i]);
        expected[i] = calloc(1, out_bytes[i]);
    }
    CHECK(sc_model_run_buffers(NULL, ins, outs) == SC_ERR_NULL_ARGUMENT);
    CHECK(sc_model_run_buffers(loaded, NULL, outs) == SC_ERR_NULL_ARGUMENT);
    CHECK(sc_model_run_buffers(loaded, ins, NULL) == SC_ERR_NULL_ARGUMENT);
    const void *saved_in = ins[SC_MODEL_NUM_INPUTS - 1];
    ins[SC_MODEL_NUM_INPUTS - 1] = NULL;
    CHECK(sc_model_run_buffers(loaded, ins, outs) == SC_ERR_NULL_ARGUMENT);
    ins[SC_MODEL_NUM_INPUTS - 1] = saved_in;
    void *saved_out = outs[SC_MODEL_NUM_OUTPUTS - 1];
    outs[SC_MODEL_NUM_OUTPUTS - 1] = NULL;
    CHECK(sc_model_run_buffers(loaded, ins, outs) == SC_ERR_NULL_ARGUMENT);
    outs[SC_MODEL_NUM_OUTPUTS - 1] = saved_out;

    /* the three models compute the same outputs */
    CHECK(sc_model_run_buffers(loaded, ins, expected) == SC_OK);
    sc_model *models[2] = {in_place, copied};
    for (int m = 0; m < 2; m++) {
        for (int i = 0; i < SC_MODEL_NUM_OUTPUTS; i++) memset(outs[i], 0xff, out_bytes[i]);
        CHECK(sc_model_run_buffers(models[m], ins, outs) == SC_OK);
        for (int i = 0; i < SC_MODEL_NUM_OUTPUTS; i++)
            CHECK(memcmp(outs[i], expected[i], out_bytes[i]) == 0);
    }

    sc_model_destroy(NULL);
    sc_model_destroy(in_place);
    sc_model_destroy(copied);
    sc_model_destroy(loaded);
    free(aligned);
    free(longer);
    free(file);
    for (int i = 0; i < SC_MODEL_NUM_INPUTS; i++) free((void *)ins[i]);
    for (int i = 0; i < SC_MODEL_NUM_OUTPUTS; i++) { free(outs[i]); free(expected[i]); }
    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
