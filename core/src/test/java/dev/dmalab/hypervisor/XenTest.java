package dev.dmalab.hypervisor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.cache.CacheGeometry;
import dev.dmalab.cache.CacheSystem;
import dev.dmalab.cache.LineState;
import dev.dmalab.cache.MemAttr;
import dev.dmalab.cache.SpeculativeFill;
import dev.dmalab.memory.MemoryContents;
import dev.dmalab.memory.MemoryRegion;
import dev.dmalab.memory.PageSize;
import dev.dmalab.memory.PhysicalMemoryMap;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The hypervisor model: 1:1 and PV dom0 construction, domU frames, grants mapped into dom0 (stage 2 and the bus
 * address), {@code GNTTABOP_cache_flush} (permission and range checks in Xen's order, the cache operations it
 * performs) and {@code XENMEM_exchange} (contiguous frames below the limit, old frames freed, m2p updated).
 */
class XenTest {
    static final long GIB = 1L << 30;
    static final long MIB = 1L << 20;

    /** Juno-like host: 2 GiB at 0x80000000 and 6 GiB at 0x880000000; Xen's own 16 MiB at the bottom. */
    static PhysicalMemoryMap host() {
        return PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                .ram(0x8000_0000L, 2 * GIB)
                .ram(0x8_8000_0000L, 6 * GIB)
                .reserved(0x8000_0000L, 16 * MIB, "Xen")
                .build();
    }

    record Fixture(Xen xen, CacheSystem caches, MemoryContents memory) {}

    static Fixture fixture(PhysicalMemoryMap map) {
        MemoryContents memory = new MemoryContents();
        CacheSystem caches =
                new CacheSystem(memory, map, 2, new CacheGeometry(64, 32 * 1024, 4), true, SpeculativeFill.NONE);
        return new Fixture(new Xen("4.17", map, caches, true), caches, memory);
    }

    @Test
    void theHeapHoldsAllRamButXensOwn() {
        Xen xen = fixture(host()).xen();
        assertThat(xen.heap().freeFrames()).isEqualTo((8 * GIB - 16 * MIB) >>> 12);
        assertThat(xen.heap().isFree(0x8000_0000L >>> 12, 1)).isFalse();
        assertThat(xen.heap().isFree(0x8100_0000L >>> 12, 1)).isTrue();
    }

    @Test
    void aDirectMappedDom0TranslatesItsBanksToThemselves() {
        Xen xen = fixture(host()).xen();
        Domain dom0 = xen.createDirectMappedDom0(
                List.of(new MemoryRegion(0x8800_0000L, GIB, MemoryRegion.Kind.RAM, "dom0 bank 0")));
        assertThat(dom0.directMapped()).isTrue();
        assertThat(dom0.autoTranslated()).isTrue();
        assertThat(dom0.machineAddr(0x8800_1234L)).isEqualTo(0x8800_1234L);
        assertThat(dom0.machineAddr(0x4000_0000L)).as("not dom0's RAM").isEqualTo(-1);
        assertThat(xen.ownerOf(0x8800_0000L >>> 12)).isSameAs(dom0);
        assertThat(xen.m2p(0x8800_0000L >>> 12)).isEqualTo(0x8800_0000L >>> 12);
        assertThat(xen.heap().freeFrames()).isEqualTo((7 * GIB - 16 * MIB) >>> 12);
        assertThatThrownBy(() -> xen.createDomU(0, "again", 0x40000, 1)).hasMessageContaining("exists");
    }

    @Test
    void aDom0BankOutsideFreeRamIsRefused() {
        Xen xen = fixture(host()).xen();
        assertThatThrownBy(() -> xen.createDirectMappedDom0(
                        List.of(new MemoryRegion(0x8000_0000L, MIB, MemoryRegion.Kind.RAM, "on Xen"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not free machine RAM");
    }

    @Test
    void aReversedPvDom0IsContiguousOnlyWithinAChunk() {
        Xen xen = fixture(host()).xen();
        long base = 0x9_0000_0000L >>> 12;
        Domain dom0 = xen.createPvDom0(8, base, 2, true);
        // chunks of 2 frames, the first pfns get the highest chunk: pfn 0,1 -> base+6,7; pfn 2,3 -> base+4,5; ...
        assertThat(dom0.p2m().lookup(0)).isEqualTo(base + 6);
        assertThat(dom0.p2m().lookup(1)).isEqualTo(base + 7);
        assertThat(dom0.p2m().lookup(2)).isEqualTo(base + 4);
        assertThat(dom0.p2m().lookup(7)).isEqualTo(base + 1);
        assertThat(dom0.p2m().lookup(8)).isEqualTo(XenFrames.INVALID);
        assertThat(xen.m2p(base + 6)).isZero();
        assertThat(xen.ownerOf(base + 3)).isSameAs(dom0);
        assertThat(dom0.machineAddr(0x1010)).isEqualTo(((base + 7) << 12) | 0x10);
        assertThatThrownBy(() -> fixture(host()).xen().createPvDom0(7, base, 2, true))
                .hasMessageContaining("whole number");
    }

    @Test
    void aDomUGetsTheHighestFreeFramesOneByOne() {
        Xen xen = fixture(host()).xen();
        Domain domU = xen.createDomU(1, "domU", 0x40000, 4);
        long top = (0x8_8000_0000L + 6 * GIB) >>> 12;
        assertThat(domU.p2m().lookup(0x40000)).isEqualTo(top - 1);
        assertThat(domU.p2m().lookup(0x40001)).isEqualTo(top - 2);
        assertThat(xen.ownerOf(top - 4)).isSameAs(domU);
        assertThat(xen.m2p(top - 4)).isEqualTo(0x40003);
    }

    @Test
    void aGrantMappedIntoDom0ReachesTheDomUsFrame() {
        Xen xen = fixture(host()).xen();
        Domain dom0 =
                xen.createDirectMappedDom0(List.of(new MemoryRegion(0x8800_0000L, GIB, MemoryRegion.Kind.RAM, "dom0")));
        Domain domU = xen.createDomU(1, "domU", 0x40000, 4);
        int ref = xen.grantAccess(domU, dom0, 0x40002, false);
        assertThat(ref).isEqualTo(GrantTable.FIRST_FREE_REF);
        long hostGfn = 0x8800_5000L >>> 12; // a ballooned-out dom0 frame
        Xen.MapResult r = xen.mapGrantRef(dom0, domU, ref, hostGfn, false);
        assertThat(r.status()).isEqualTo(XenErrno.GNTST_OKAY);
        long mfn = domU.p2m().lookup(0x40002);
        assertThat(r.devBusAddr()).isEqualTo(mfn << 12);
        assertThat(dom0.machineAddr(0x8800_5008L))
                .as("stage 2 now points at the foreign frame")
                .isEqualTo((mfn << 12) | 8);
        assertThat(xen.grantMapExists(dom0, mfn)).isTrue();
        assertThat(domU.grantTable().entry(ref).activeMaps()).isEqualTo(1);

        assertThat(xen.unmapGrantRef(dom0, r.handle())).isEqualTo(XenErrno.GNTST_OKAY);
        assertThat(dom0.machineAddr(0x8800_5008L)).as("1:1 again").isEqualTo(0x8800_5008L);
        assertThat(xen.grantMapExists(dom0, mfn)).isFalse();
        assertThat(xen.unmapGrantRef(dom0, r.handle())).isEqualTo(XenErrno.GNTST_BAD_HANDLE);
    }

    @Test
    void grantsAreCheckedBeforeMapping() {
        Xen xen = fixture(host()).xen();
        Domain dom0 =
                xen.createDirectMappedDom0(List.of(new MemoryRegion(0x8800_0000L, GIB, MemoryRegion.Kind.RAM, "dom0")));
        Domain domU = xen.createDomU(1, "domU", 0x40000, 2);
        Domain other = xen.createDomU(2, "other", 0x40000, 1);
        int ro = xen.grantAccess(domU, dom0, 0x40000, true);
        int forOther = xen.grantAccess(domU, other, 0x40001, false);
        assertThat(xen.mapGrantRef(dom0, domU, 99, 0x88005, false).status()).isEqualTo(XenErrno.GNTST_BAD_GNTREF);
        assertThat(xen.mapGrantRef(dom0, domU, ro, 0x88005, false).status())
                .as("read-only grant mapped writable")
                .isEqualTo(XenErrno.GNTST_PERMISSION_DENIED);
        assertThat(xen.mapGrantRef(dom0, domU, forOther, 0x88005, true).status())
                .isEqualTo(XenErrno.GNTST_PERMISSION_DENIED);
        assertThat(xen.mapGrantRef(dom0, dom0, ro, 0x88005, true).status()).isEqualTo(XenErrno.GNTST_BAD_DOMAIN);
        assertThat(xen.mapGrantRef(dom0, domU, ro, 0x88005, true).status()).isEqualTo(XenErrno.GNTST_OKAY);
        assertThatThrownBy(() -> xen.grantAccess(domU, dom0, 0x50000, false)).hasMessageContaining("no frame");
    }

    @Test
    void cacheFlushCleansAndInvalidatesByBusAddress() {
        Fixture f = fixture(host());
        Xen xen = f.xen();
        Domain dom0 =
                xen.createDirectMappedDom0(List.of(new MemoryRegion(0x8800_0000L, GIB, MemoryRegion.Kind.RAM, "dom0")));
        long pa = 0x8800_2000L;
        byte[] data = {1, 2, 3, 4};
        f.caches().cpuWrite(0, pa + 64, data, 0, 4, MemAttr.NORMAL_WB);
        assertThat(f.caches().lineState(pa + 64)).isEqualTo(LineState.DIRTY);

        assertThat(xen.cacheFlush(dom0, pa, 64, 64, Xen.CACHE_CLEAN)).isZero();
        assertThat(f.caches().lineState(pa + 64)).isEqualTo(LineState.CLEAN);
        byte[] mem = new byte[4];
        f.memory().read(pa + 64, mem, 0, 4);
        assertThat(mem).isEqualTo(data);

        assertThat(xen.cacheFlush(dom0, pa, 64, 64, Xen.CACHE_INVAL)).isZero();
        assertThat(f.caches().lineState(pa + 64)).isEqualTo(LineState.INVALID);
        assertThat(xen.cacheFlushCalls()).isEqualTo(2);
    }

    @Test
    void invalidatingPartOfALineCleansItFirst() {
        Fixture f = fixture(host());
        Xen xen = f.xen();
        Domain dom0 =
                xen.createDirectMappedDom0(List.of(new MemoryRegion(0x8800_0000L, GIB, MemoryRegion.Kind.RAM, "dom0")));
        long pa = 0x8800_2000L;
        f.caches().cpuWrite(0, pa, new byte[] {7}, 0, 1, MemAttr.NORMAL_WB); // dirty byte 0 of the line
        assertThat(xen.cacheFlush(dom0, pa, 8, 16, Xen.CACHE_INVAL)).isZero();
        byte[] b = new byte[1];
        f.memory().read(pa, b, 0, 1);
        assertThat(b[0]).as("the dirty neighbour was written back, not lost").isEqualTo((byte) 7);
    }

    @Test
    void cacheFlushChecksItsArgumentsInXensOrder() {
        Fixture f = fixture(host());
        Xen xen = f.xen();
        Domain dom0 =
                xen.createDirectMappedDom0(List.of(new MemoryRegion(0x8800_0000L, GIB, MemoryRegion.Kind.RAM, "dom0")));
        Domain domU = xen.createDomU(1, "domU", 0x40000, 2);
        long pa = 0x8800_2000L;
        assertThat(xen.cacheFlush(dom0, pa, 4096, 0, Xen.CACHE_CLEAN)).isEqualTo(-XenErrno.EINVAL);
        assertThat(xen.cacheFlush(dom0, pa, 4000, 200, Xen.CACHE_CLEAN)).isEqualTo(-XenErrno.EINVAL);
        assertThat(xen.cacheFlush(dom0, pa, 0, 4097, Xen.CACHE_CLEAN)).isEqualTo(-XenErrno.EINVAL);
        assertThat(xen.cacheFlush(dom0, pa, 0, 64, Xen.CACHE_SOURCE_GREF)).isEqualTo(-XenErrno.EINVAL);
        assertThat(xen.cacheFlush(dom0, pa, 0, 0, Xen.CACHE_CLEAN)).isZero();
        assertThat(xen.cacheFlush(dom0, pa, 0, 64, 0)).isZero();
        assertThat(xen.cacheFlush(dom0, 0x10_0000L, 0, 64, Xen.CACHE_CLEAN))
                .as("not RAM")
                .isEqualTo(-XenErrno.EINVAL);
        assertThat(xen.cacheFlush(dom0, 0x8100_0000L, 0, 64, Xen.CACHE_CLEAN))
                .as("a free frame has no owner")
                .isEqualTo(-XenErrno.EPERM);
        long foreign = domU.p2m().lookup(0x40000) << 12;
        assertThat(xen.cacheFlush(dom0, foreign, 0, 64, Xen.CACHE_CLEAN))
                .as("a domU frame dom0 has not mapped")
                .isEqualTo(-XenErrno.EINVAL);
        int ref = xen.grantAccess(domU, dom0, 0x40000, false);
        xen.mapGrantRef(dom0, domU, ref, 0x88005, false);
        assertThat(xen.cacheFlush(dom0, foreign, 0, 64, Xen.CACHE_CLEAN)).isZero();

        Xen noFlush = new Xen("4.4", host(), f.caches(), false);
        assertThat(noFlush.cacheFlush(dom0, pa, 0, 64, Xen.CACHE_CLEAN)).isEqualTo(-XenErrno.ENOSYS);
    }

    @Test
    void exchangeTradesFramesForAContiguousExtentBelowTheLimit() {
        Xen xen = fixture(host()).xen();
        long base = 0x9_0000_0000L >>> 12; // dom0 above 4 GiB
        Domain dom0 = xen.createPvDom0(64, base, 1, true);
        long[] in = new long[4];
        for (int i = 0; i < 4; i++) {
            in[i] = dom0.p2m().lookup(8 + i);
        }
        assertThat(in).containsExactly(base + 55, base + 54, base + 53, base + 52);
        long free = xen.heap().freeFrames();

        long out = xen.exchange(dom0, in, 2, 8, 32);

        assertThat(out).isPositive();
        assertThat(out & 3).as("naturally aligned").isZero();
        assertThat((out + 4) << 12).isLessThanOrEqualTo(1L << 32);
        assertThat(xen.ownerOf(out + 3)).isSameAs(dom0);
        assertThat(xen.m2p(out + 3)).isEqualTo(11);
        assertThat(xen.ownerOf(base + 55))
                .as("the old frame went back to the heap")
                .isNull();
        assertThat(xen.heap().isFree(base + 52, 4)).isTrue();
        assertThat(xen.heap().freeFrames()).isEqualTo(free);
        assertThat(xen.exchangedFrames()).isEqualTo(4);
    }

    @Test
    void exchangeRefusesForeignFramesAndFailsCleanlyWhenNothingFits() {
        Xen xen = fixture(host()).xen();
        Domain dom0 = xen.createPvDom0(8, 0x9_0000_0000L >>> 12, 1, false);
        Domain domU = xen.createDomU(1, "domU", 0x40000, 1);
        long[] theirs = {domU.p2m().lookup(0x40000)};
        assertThat(xen.exchange(dom0, theirs, 0, 0, 32)).isEqualTo(-XenErrno.EINVAL);
        long[] mine = {dom0.p2m().lookup(0), dom0.p2m().lookup(1)};
        assertThat(xen.exchange(dom0, mine, 2, 0, 32))
                .as("2 frames are not an order-2 extent")
                .isEqualTo(-XenErrno.EINVAL);
        assertThat(xen.exchange(dom0, mine, 1, 0, 12)).as("nothing below 4 KiB").isEqualTo(-XenErrno.ENOMEM);
        assertThat(xen.ownerOf(mine[0])).as("unchanged").isSameAs(dom0);
    }
}
