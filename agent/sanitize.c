/* SPDX-License-Identifier: Apache-2.0 */
/* Built-in sanitizer options of the sanitized binaries (POSTURE_SANITIZE only). */

/*
 * The sanitizer runtime of GCC 12 (Debian 12) takes a dynamic TLS block for a glibc 2.19
 * style one whenever its address happens to sit sizeof(that header) past a 4096 boundary,
 * reads bounds from the bytes before it, and the leak checker's tracer then crashes at exit
 * ("Tracer caught signal 11"): google/sanitizers issue 1322, fixed after GCC 13 / LLVM 16.
 * Where a block lands depends on every earlier allocation, so any change to the heap can
 * make `posture` (which loads libcurl's module, and its TLS, with dlopen) hit it. Without
 * the interception the leak checker skips only the dynamic TLS of dlopen'd libraries.
 * ASAN_OPTIONS from the environment still applies on top of this.
 */
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
    return "intercept_tls_get_addr=0";
}
