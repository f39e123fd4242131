package dev.dmalab.driver;

import dev.dmalab.dma.ScatterList;
import dev.dmalab.hypervisor.Domain;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.xen.XenGnttab;

/**
 * A blkback-style request ({@code drivers/block/xen-blkback/blkback.c}): a guest asks dom0 to read or write a disk
 * sector range into or from one of its pages, which it has granted to dom0. Dom0 maps the grant ({@code
 * xen_blkbk_map} → {@code gnttab_map_refs}), hands the page to the disk driver as the data buffer — so the DMA layer
 * sees a foreign page — and unmaps it when the I/O is done ({@code xen_blkbk_unmap}).
 *
 * <p>Deliberate differences: no ring, no persistent grants, one 4 KiB segment per request, synchronous.
 */
public final class Blkback {
    private final XenGnttab gnttab;
    private final Sil24 disk;

    public Blkback(XenGnttab gnttab, Sil24 disk) {
        this.gnttab = gnttab;
        this.disk = disk;
    }

    /**
     * Serves one request of {@code guest}: 8 sectors at {@code lba} to or from its page granted as {@code ref}.
     *
     * @return 0, or the command's error mask
     */
    @KernelFunction("dispatch_rw_block_io")
    public int serve(Libata.AtaPort port, Domain guest, int ref, boolean write, long lba) {
        long page = xenBlkbkMap(guest, ref, write); // a guest write only needs the page read-only
        try {
            ScatterList sg = new ScatterList(1).add(page, 0, 4096);
            return disk.readWrite(port, write, lba, sg);
        } finally {
            xenBlkbkUnmap(page);
        }
    }

    @KernelFunction("xen_blkbk_map")
    private long xenBlkbkMap(Domain guest, int ref, boolean readOnly) {
        return gnttab.mapForeign(guest, ref, readOnly);
    }

    @KernelFunction("xen_blkbk_unmap")
    private void xenBlkbkUnmap(long page) {
        gnttab.unmapForeign(page);
    }
}
