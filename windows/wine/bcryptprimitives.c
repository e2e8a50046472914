/* bcryptprimitives.dll for Wine 8 (Debian 12), which has none.
 *
 * Rust's standard library (1.78 and later) takes its random bytes, for HashMap keys among
 * others, from ProcessPrng in bcryptprimitives.dll, which every Windows 10 and 11 has. Wine 8
 * does not ship that DLL, so no Rust program starts under it. This shim exports ProcessPrng
 * and fills the buffer from RtlGenRandom (advapi32's SystemFunction036), which Wine has and
 * which is backed by the host's CSPRNG. It is used only to run the tests under Wine
 * (scripts/windows.sh puts it in the throwaway Wine prefix); it is never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */

/* Documented as always returning TRUE; a caller that cannot get random bytes has no fallback,
 * so a failure ends the process instead of handing out predictable bytes. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            ExitProcess(0xC0000001); /* STATUS_UNSUCCESSFUL */
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
