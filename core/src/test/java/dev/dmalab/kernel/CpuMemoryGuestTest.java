package dev.dmalab.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.cache.CacheGeometry;
import dev.dmalab.cache.CacheSystem;
import dev.dmalab.cache.SpeculativeFill;
import dev.dmalab.memory.GuestPhysMap;
import dev.dmalab.memory.MemoryContents;
import dev.dmalab.memory.PageSize;
import dev.dmalab.memory.PhysicalMemoryMap;
import org.junit.jupiter.api.Test;

/**
 * A guest kernel's CPU accesses go through its guest-physical map frame by frame: an access that spans two guest
 * frames whose machine frames are not adjacent lands in two separate places of machine memory.
 */
class CpuMemoryGuestTest {
    /** Guest frames 0..15 map to machine frames 0x100 + 15 - gfn (reversed); frame 16 has no machine frame. */
    static final GuestPhysMap REVERSED = guestPhys -> {
        long gfn = guestPhys >>> 12;
        return gfn < 16 ? ((0x100 + 15 - gfn) << 12) | (guestPhys & 0xfff) : -1;
    };

    static final class Fixture {
        final MemoryContents memory = new MemoryContents();
        final CpuMemory cpu;

        Fixture(boolean cachesModelled) {
            PhysicalMemoryMap map = PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                    .ram(0, 0x20_0000)
                    .build();
            CacheSystem caches = new CacheSystem(
                    memory, map, 1, new CacheGeometry(64, 16 * 1024, 4), cachesModelled, SpeculativeFill.NONE);
            cpu = new CpuMemory(
                    new KernelAddressSpace(ArchKind.X86_64, PageSize.SIZE_4K, 0), caches, new ExecContext(1));
            cpu.setGuestPhysMap(REVERSED);
        }

        byte[] machine(long ma, int n) {
            byte[] b = new byte[n];
            memory.read(ma, b, 0, n);
            return b;
        }
    }

    static byte[] seq(int n, int salt) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + salt);
        }
        return b;
    }

    @Test
    void aWriteAcrossAFrameBoundarySplitsAtTheMachineLevel() {
        Fixture f = new Fixture(false);
        byte[] data = seq(32, 1);
        f.cpu.writePhys(0x1ff0, data, 0, 32); // guest frames 1 and 2
        // guest frame 1 -> machine 0x10e, frame 2 -> machine 0x10d
        assertThat(f.machine(0x10eff0, 16)).isEqualTo(java.util.Arrays.copyOfRange(data, 0, 16));
        assertThat(f.machine(0x10d000, 16)).isEqualTo(java.util.Arrays.copyOfRange(data, 16, 32));
        byte[] back = new byte[32];
        f.cpu.readPhys(0x1ff0, back, 0, 32);
        assertThat(back).isEqualTo(data);
        assertThat(f.cpu.machineAddr(0x1ff0)).isEqualTo(0x10eff0);
    }

    @Test
    void copiesAndFillsAreTranslatedOnBothSidesThroughTheCaches() {
        Fixture f = new Fixture(true);
        byte[] data = seq(6000, 3);
        f.cpu.writePhys(0x0800, data, 0, data.length); // guest frames 0..1
        f.cpu.copyPhys(0x5100, 0x0800, data.length); // into guest frames 5..6, at another in-frame offset
        byte[] copied = new byte[data.length];
        f.cpu.readPhys(0x5100, copied, 0, copied.length);
        assertThat(copied).isEqualTo(data);
        f.cpu.memsetPhys(0x5ff0, (byte) 0x5a, 32);
        byte[] around = new byte[32];
        f.cpu.readPhys(0x5ff0, around, 0, 32);
        assertThat(around).containsOnly((byte) 0x5a);
        f.cpu.caches().cleanInvalidate(0, 0x20_0000);
        assertThat(f.machine((0x100 + 15 - 6L) << 12, 16)).containsOnly((byte) 0x5a);
    }

    @Test
    void aFrameWithoutMachineMemoryIsAStage2Fault() {
        Fixture f = new Fixture(false);
        assertThatThrownBy(() -> f.cpu.writePhys(0x10ff8, new byte[16], 0, 16))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no machine frame");
    }

    @Test
    void aNativeKernelIsNotTranslated() {
        Fixture f = new Fixture(false);
        f.cpu.setGuestPhysMap(null);
        f.cpu.writePhys(0x1ff0, seq(32, 9), 0, 32);
        assertThat(f.machine(0x1ff0, 32)).isEqualTo(seq(32, 9));
        assertThat(f.cpu.machineAddr(0x1234)).isEqualTo(0x1234);
    }
}
