package dev.dmalab.memory;

/**
 * How the CPU of a virtualised kernel reaches machine memory: guest-physical address to machine address, in
 * frames of {@link #frameBytes()} (Xen: 4 KiB; stage 2 on ARM, the PV page tables on x86). A native kernel has no
 * such map: its physical addresses are machine addresses.
 */
public interface GuestPhysMap {
    /** The machine address of {@code guestPhys}, or -1 if its frame has no machine frame behind it. */
    long machineAddr(long guestPhys);

    /** The translation granule in bytes. */
    default long frameBytes() {
        return 4096;
    }
}
