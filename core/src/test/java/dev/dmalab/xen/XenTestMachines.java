package dev.dmalab.xen;

import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;

/** Xen test beds the built-in profiles do not cover: a non-coherent arm64 dom0 (4K or 64K pages), a tight x86 PV. */
final class XenTestMachines {
    private XenTestMachines() {}

    /** arm64 dom0, 256 MiB 1:1 at 0x80000000, a non-coherent platform SATA and a coherent PCI NIC, one guest. */
    static String arm64Nc(String pageSize) {
        return String.join(
                "\n",
                "name: arm64-nc-xen",
                "arch: arm64",
                "cpus: 2",
                "page_size: " + pageSize,
                "memory:",
                "  ram:",
                "    - {start: 0x80000000, size: 256M}",
                "  reserved:",
                "    - {start: 0x80000000, size: 0x2000000, name: kernel}",
                "  mmio:",
                "    - {start: 0x10000000, size: 0x10000000, name: soc}",
                "xen:",
                "  version: \"4.17\"",
                "  machine_ram:",
                "    - {start: 0x80000000, size: 2G}",
                "  machine_reserved:",
                "    - {start: 0xff000000, size: 16M, name: Xen}",
                "  domus:",
                "    - {id: 1, name: guest, memory: 1M}",
                "devices:",
                "  - {name: fa000000.sata, bus: platform, driver: ahci, dma_mask: 64, coherent: false}",
                "  - {name: \"0000:00:01.0\", driver: e1000e, dma_mask: 64, coherent: true}",
                "");
    }

    static Machine arm64Nc(String pageSize, KernelVersion v) {
        return TestMachines.bootYaml("arm64-nc-xen.yaml", arm64Nc(pageSize), v, "");
    }

    /**
     * x86 PV dom0 of 255 MiB whose machine frames come in pairs from the top down, each pair starting at an odd
     * machine frame: pfns 2k and 2k+1 are machine-contiguous but not 8 KiB-aligned in machine memory; 2k+1 and 2k+2
     * are not contiguous at all.
     */
    static final String X86_PV_SCATTERED = String.join(
            "\n",
            "name: x86-pv-scattered",
            "arch: x86_64",
            "cpus: 1",
            "memory:",
            "  ram:",
            "    - {start: 0x100000, size: 0xff00000}",
            "xen:",
            "  dom0: pv",
            "  machine_ram:",
            "    - {start: 0x100000, size: 0x7ff00000}",
            "    - {start: 0x100000000, size: 1G}",
            "  machine_reserved:",
            "    - {start: 0x100000, size: 0x1f00000, name: Xen}",
            "  pv_p2m: {machine_base: 0x100001000, chunk_pages: 2, reversed: true}",
            "devices:",
            "  - {name: \"0000:00:03.0\", driver: nvme, dma_mask: 64}",
            "  - {name: \"0000:00:05.0\", driver: e1000, dma_mask: 32}",
            "");

    static Machine x86Scattered(KernelVersion v) {
        return TestMachines.bootYaml("x86-pv-scattered.yaml", X86_PV_SCATTERED, v, "");
    }
}
