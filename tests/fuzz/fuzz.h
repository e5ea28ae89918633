/*
 * fuzz.h: the fuzz targets' entry points (tests/fuzz/fuzz_targets.c).
 *
 * Each takes one input and returns 0. An input that breaks a property the
 * library promises (a crash, a sanitizer report, or a failed CS_FUZZ_CHECK)
 * aborts the process. The same functions run under libFuzzer (fuzz_main.c,
 * `make fuzz`) and in the ordinary test suite (test_fuzz_replay.c replays
 * tests/fuzz/corpus/ and tests/fuzz/regressions/ through them).
 */
#ifndef CUSTSCORE_FUZZ_H
#define CUSTSCORE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* CSV import in every mode: the first 3 bytes choose kind and options. */
int cs_fuzz_csv(const uint8_t *data, size_t size);
/* Date parsing with and without a format, and formatting round trips. */
int cs_fuzz_time(const uint8_t *data, size_t size);
/* The public API driven by a byte stream on an in-memory store. */
int cs_fuzz_api(const uint8_t *data, size_t size);
/* The survey-model text format (parse, write, parse again). A no-op when the
 * library has no custscore_survey_model_parse() (CS_FUZZ_HAVE_SURVEY). */
int cs_fuzz_survey(const uint8_t *data, size_t size);
/* Nonzero when cs_fuzz_survey() is compiled in. */
int cs_fuzz_have_survey(void);
/* Close the in-memory store the targets share between inputs (the replay
 * test calls it so that valgrind sees no block left). */
void cs_fuzz_cleanup(void);

#endif
