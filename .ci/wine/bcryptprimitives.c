/* A stand-in for Windows' bcryptprimitives.dll, which Wine 8.0 lacks.
 *
 * Rust's standard library (1.78 and later) imports ProcessPrng from it for HashMap keys and
 * random numbers; without the DLL every Rust .exe stops at start under Wine (exit 53).
 * This one fills the buffer from RtlGenRandom (advapi32's SystemFunction036, which Wine has),
 * as the real ProcessPrng fills it from the system's generator, and like it never fails.
 *
 * Built by .ci/windows with MinGW into the Wine prefix's system32; used only to run Haul's
 * Windows build under Wine in CI, never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
