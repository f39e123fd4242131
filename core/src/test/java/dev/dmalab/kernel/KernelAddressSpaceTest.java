package dev.dmalab.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.cache.MemAttr;
import dev.dmalab.memory.PageSize;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import org.junit.jupiter.api.Test;

/** The kernel's linear map and vmalloc area per arch, and CPU accesses through them. */
class KernelAddressSpaceTest {
    @Test
    void x86LinearMapStartsAtPageOffsetForPhysicalZero() {
        KernelAddressSpace as = new KernelAddressSpace(ArchKind.X86_64, PageSize.SIZE_4K, 0x1000);
        assertThat(as.physToVirt(0x1000)).isEqualTo(0xffff888000001000L);
        assertThat(as.physToVirt(0x7ffd0000L)).isEqualTo(0xffff88807ffd0000L);
        assertThat(as.virtToPhys(0xffff88807ffd0123L)).isEqualTo(0x7ffd0123L);
        assertThat(as.isLinear(0xffff888000001000L)).isTrue();
        assertThat(as.isVmalloc(0xffff888000001000L)).isFalse();
        assertThat(as.attrOf(0xffff888000001000L)).isEqualTo(MemAttr.NORMAL_WB);
        assertThat(as.virtToPhys(0x1000)).as("a user address").isEqualTo(-1);
    }

    @Test
    void arm64LinearMapIsRelativeToTheGigabyteAlignedStartOfDram() {
        // PHYS_OFFSET = memstart_addr = start of DRAM rounded down to ARM64_MEMSTART_ALIGN (1 GiB with 4K pages).
        KernelAddressSpace noncoherent = new KernelAddressSpace(ArchKind.ARM64, PageSize.SIZE_4K, 0x80000000L);
        KernelAddressSpace odd = new KernelAddressSpace(ArchKind.ARM64, PageSize.SIZE_4K, 0x48000000L);
        KernelAddressSpace rpi = new KernelAddressSpace(ArchKind.ARM64, PageSize.SIZE_4K, 0);
        assertThat(noncoherent.physToVirt(0x80000000L)).isEqualTo(0xffff000000000000L);
        assertThat(noncoherent.physToVirt(0x880000000L)).isEqualTo(0xffff000800000000L);
        assertThat(odd.physToVirt(0x48000000L)).isEqualTo(0xffff000008000000L);
        assertThat(rpi.physToVirt(0x1000)).isEqualTo(0xffff000000001000L);
        assertThat(noncoherent.virtToPhys(0xffff000800000010L)).isEqualTo(0x880000010L);
    }

    @Test
    void arm32LinearMapAndVmalloc() {
        KernelAddressSpace as = new KernelAddressSpace(ArchKind.ARM32, PageSize.SIZE_4K, 0x60000000L);
        assertThat(as.physToVirt(0x60001000L)).isEqualTo(0xc0001000L);
        assertThat(as.virtToPhys(0xc0001000L)).isEqualTo(0x60001000L);
        assertThat(as.vmapContiguous(0x60100000L, 4096, MemAttr.NORMAL_NC)).isEqualTo(0xf0000000L);
    }

    @Test
    void vmapPlacesAreasWithAGuardPageAndRecordsTheirMemoryType() {
        KernelAddressSpace as = new KernelAddressSpace(ArchKind.X86_64, PageSize.SIZE_4K, 0x1000);
        long a = as.vmapContiguous(0x200000, 8192, MemAttr.NORMAL_NC);
        long b = as.vmapContiguous(0x300000, 100, MemAttr.DEVICE);

        assertThat(a).isEqualTo(0xffffc90000000000L);
        assertThat(b).as("8 KiB area + 4 KiB guard").isEqualTo(a + 0x3000);
        assertThat(as.isVmalloc(a)).isTrue();
        assertThat(as.virtToPhys(a + 0x1234)).isEqualTo(0x201234);
        assertThat(as.attrOf(a + 0x1fff)).isEqualTo(MemAttr.NORMAL_NC);
        assertThat(as.attrOf(b)).isEqualTo(MemAttr.DEVICE);
        assertThat(as.vmapAreaSize(a)).isEqualTo(8192);
        assertThat(as.vmapAreaSize(b)).as("rounded up to pages").isEqualTo(4096);
        assertThat(as.virtToPhys(a + 0x2000)).as("the guard page is unmapped").isEqualTo(-1);

        assertThat(as.vunmap(a)).isTrue();
        assertThat(as.virtToPhys(a)).isEqualTo(-1);
        assertThat(as.vmapAreaSize(a)).isEqualTo(-1);
        assertThat(as.vunmap(a)).isFalse();
        assertThat(as.vunmap(b + 4096)).as("not the start of an area").isFalse();
    }

    @Test
    void cpuAccessesMayNotCrossAVmallocMappingBoundary() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        long pa = m.allocKernelPages(0, dev.dmalab.memory.Zone.DMA32);
        long va = m.addressSpace().vmapContiguous(pa, 4096, MemAttr.NORMAL_NC);
        byte[] buf = new byte[64];
        m.cpu().read(va + 4096 - 64, buf, 0, 64);
        assertThatThrownBy(() -> m.cpu().read(va + 4096 - 32, buf, 0, 64))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("crosses a vmalloc mapping boundary");
        assertThatThrownBy(() -> m.cpu().read(0x1234, buf, 0, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unmapped kernel virtual address 0x1234");
    }

    @Test
    void executionContextValidatesItsInputs() {
        ExecContext c = new ExecContext(2);
        assertThat(c.onCpu(1).cpu()).isEqualTo(1);
        assertThat(c.flags()).isEqualTo(".....");
        assertThatThrownBy(() -> c.onCpu(2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.flags("d...")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ExecContext(0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(ArchKind.parse("aarch64")).isEqualTo(ArchKind.ARM64);
        assertThat(ArchKind.parse("arm")).isEqualTo(ArchKind.ARM32);
        assertThat(ArchKind.ARM32.pointerBits()).isEqualTo(32);
        assertThatThrownBy(() -> ArchKind.parse("riscv")).isInstanceOf(IllegalArgumentException.class);
    }
}
