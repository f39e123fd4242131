package dev.dmalab.driver;

import dev.dmalab.device.Device;
import dev.dmalab.dma.DmaApi;
import dev.dmalab.dma.Errno;
import dev.dmalab.dma.Gfp;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.kernel.CpuMemory;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.kernel.Printk;
import dev.dmalab.util.Bits;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code drivers/ata/sata_sil24.c}, the seed's driver, as of 5.0 (read in the 4.19 and 5.2-rc sources, which agree
 * on everything modelled here) and with the 5.3 / 5.4 changes below.
 *
 * <ul>
 *   <li>{@code sil24_pci_driver_init} ({@code module_pci_driver}) registers the PCI driver; the id table claims
 *       1095:3124 / 8086:3124 (4 ports), 1095:3132 / 0242 / 0244 (2 ports), 1095:3131 / 3531 (1 port).
 *   <li>{@code sil24_init_one}: DMA masks — up to 5.3, 64-bit streaming then coherent 64 falling back to 32 (and
 *       32/32 if 64-bit streaming is refused); from 5.4 {@code dma_set_mask_and_coherent(64)} or the probe fails
 *       ("DMA enable failed") — then {@code ata_host_activate}.
 *   <li>{@code sil24_port_start}: one coherent allocation per port of 31 command blocks of {@code PAGE_SIZE}
 *       (126,976 bytes with 4 KiB pages) through {@code dmam_alloc_coherent} — the allocation that crashed in the
 *       seed — cleared with {@code memset} up to 5.2.
 *   <li>{@code sil24_qc_prep} writes the PRB (ctrl = protocol, prot = read/write, the H2D FIS) and the SGEs (le64
 *       address, le32 count, {@code SGE_TRM} on the last) into the slot's block; {@code sil24_qc_issue} writes the
 *       block's bus address ({@code cmd_block_dma + slot * PAGE_SIZE}) to the slot's activation register.
 * </ul>
 */
public final class Sil24 extends PciDriver implements Libata.PortOps {
    /** {@code SIL24_MAX_CMDS}. */
    public static final int MAX_CMDS = 31;

    static final int PRB_CTRL_PROTOCOL = 1;
    static final int PRB_PROT_READ = 1 << 3;
    static final int PRB_PROT_WRITE = 1 << 4;
    /** {@code AC_ERR_DEV}. */
    public static final int AC_ERR_DEV = 1;

    /** The per-port private data ({@code struct sil24_port_priv}). */
    public record PortPriv(long cmdBlock, long cmdBlockDma) {}

    private final Kernel kernel;
    private final DmaApi dma;
    private final CpuMemory cpu;
    private final Libata libata;
    private final DriverCore core;
    private final Function<Device, Sil3132> hardware;
    private final long pageBytes;
    private final boolean memset;
    private final boolean maskAndCoherent;
    private final Map<String, Libata.AtaHost> hosts = new LinkedHashMap<>();
    private int nextTag;

    /**
     * @param hardware the controller behind a device (one per device, created on first use)
     */
    public Sil24(
            Kernel kernel,
            DmaApi dma,
            CpuMemory cpu,
            Libata libata,
            DriverCore core,
            Function<Device, Sil3132> hardware) {
        super("sata_sil24");
        this.kernel = kernel;
        this.dma = dma;
        this.cpu = cpu;
        this.libata = libata;
        this.core = core;
        this.hardware = hardware;
        this.pageBytes = cpu.addressSpace().pageSize().bytes();
        this.memset = !kernel.has(Feature.SIL24_NO_MEMSET);
        this.maskAndCoherent = kernel.has(Feature.SIL24_MASK_AND_COHERENT);
    }

    /** Ports of the controller with PCI id {@code pciId} (a SiI3132 when the profile gives no id). */
    static int portsFor(String pciId) {
        switch (pciId) {
            case "1095:3124":
            case "8086:3124":
                return 4;
            case "1095:3131":
            case "1095:3531":
                return 1;
            default:
                return 2;
        }
    }

    /** Bytes of one port's command-block area ({@code sizeof(union sil24_cmd_block) * SIL24_MAX_CMDS}). */
    public long commandBlockBytes() {
        return pageBytes * MAX_CMDS;
    }

    /** The host of a probed device, or null. */
    public Libata.AtaHost host(Device dev) {
        return hosts.get(dev.name());
    }

    /** {@code sil24_pci_driver_init}: the module's init function ({@code module_pci_driver}). */
    @KernelFunction("sil24_pci_driver_init")
    public int driverInit() {
        return core.pciRegisterDriver(this);
    }

    @Override
    public boolean matches(Device dev) {
        String id = dev.pciId();
        if (id.isEmpty()) {
            return "sata_sil24".equals(dev.driverName());
        }
        return switch (id) {
            case "1095:3124", "8086:3124", "1095:3132", "1095:0242", "1095:0244", "1095:3131", "1095:3531" -> true;
            default -> false;
        };
    }

    private void devErr(Device dev, String text) {
        kernel.printk().dev(Printk.Level.ERR, "sata_sil24", dev.name(), text);
    }

    @Override
    @KernelFunction("sil24_init_one")
    public int probe(Device dev) {
        Libata.AtaHost host = new Libata.AtaHost(dev, portsFor(dev.pciId()), this);
        if (maskAndCoherent) {
            int rc = dma.setMaskAndCoherent(dev, Bits.dmaBitMask(64));
            if (rc != 0) {
                devErr(dev, "DMA enable failed");
                return rc;
            }
        } else if (dma.setMask(dev, Bits.dmaBitMask(64)) == 0) {
            if (dma.setCoherentMask(dev, Bits.dmaBitMask(64)) != 0
                    && dma.setCoherentMask(dev, Bits.dmaBitMask(32)) != 0) {
                devErr(dev, "64-bit DMA enable failed");
                return -Errno.EIO;
            }
        } else {
            if (dma.setMask(dev, Bits.dmaBitMask(32)) != 0) {
                devErr(dev, "32-bit DMA enable failed");
                return -Errno.EIO;
            }
            if (dma.setCoherentMask(dev, Bits.dmaBitMask(32)) != 0) {
                devErr(dev, "32-bit consistent DMA enable failed");
                return -Errno.EIO;
            }
        }
        hosts.put(dev.name(), host);
        int rc = libata.ataHostActivate(host);
        if (rc != 0) {
            hosts.remove(dev.name());
        }
        return rc;
    }

    @Override
    public void remove(Device dev) {
        hosts.remove(dev.name());
    }

    @Override
    @KernelFunction("sil24_port_start")
    public int portStart(Libata.AtaPort ap) {
        Device dev = ap.host().dev();
        long cbSize = commandBlockBytes();
        long[] cbDma = new long[1];
        long cb = dma.dmamAllocCoherent(dev, cbSize, cbDma, Gfp.GFP_KERNEL);
        if (cb == 0) {
            return -Errno.ENOMEM;
        }
        if (memset) {
            cpu.memset(cb, (byte) 0, cbSize);
        }
        ap.setPrivateData(new PortPriv(cb, cbDma[0]));
        return 0;
    }

    @Override
    @KernelFunction("sil24_qc_prep")
    public void qcPrep(Libata.QueuedCmd qc) {
        PortPriv pp = (PortPriv) qc.port().privateData();
        int slot = slotOf(qc);
        ScatterList sg = qc.sg();
        int n = qc.nElem();
        byte[] block = new byte[32 + 16 * n];
        putLe(block, 0, PRB_CTRL_PROTOCOL, 2);
        putLe(block, 2, qc.write() ? PRB_PROT_WRITE : PRB_PROT_READ, 2);
        // ata_tf_to_fis: Register H2D FIS at prb->fis (offset 8)
        block[8] = 0x27;
        block[9] = (byte) 0x80;
        block[10] = (byte) (qc.write() ? Sil3132.ATA_CMD_WRITE_EXT : Sil3132.ATA_CMD_READ_EXT);
        putLe(block, 12, qc.lba() & 0xffffff, 3);
        block[15] = 0x40;
        putLe(block, 16, (qc.lba() >>> 24) & 0xffffff, 3);
        putLe(block, 20, qc.sectors() & 0xffff, 2);
        for (int i = 0; i < n; i++) { // sil24_fill_sg
            int at = 32 + 16 * i;
            putLe(block, at, sg.dmaAddress(i), 8);
            putLe(block, at + 8, sg.dmaLength(i) & 0xffffffffL, 4);
            putLe(block, at + 12, i == n - 1 ? Sil3132.SGE_TRM & 0xffffffffL : 0, 4);
        }
        cpu.write(pp.cmdBlock() + slot * pageBytes, block, 0, block.length);
    }

    @Override
    @KernelFunction("sil24_qc_issue")
    public int qcIssue(Libata.QueuedCmd qc) {
        PortPriv pp = (PortPriv) qc.port().privateData();
        long paddr = pp.cmdBlockDma() + slotOf(qc) * pageBytes;
        // wmb(); writel(lower_32_bits(paddr), activate); writel(upper_32_bits(paddr), activate + 4)
        Sil3132 hw = hardware.apply(qc.port().host().dev());
        return hw.activate(qc.port().portNo(), slotOf(qc), paddr) == 0 ? 0 : AC_ERR_DEV;
    }

    private final Map<Libata.QueuedCmd, Integer> slots = new java.util.IdentityHashMap<>();

    private int slotOf(Libata.QueuedCmd qc) {
        return slots.get(qc);
    }

    /**
     * A read or write of whole sectors through {@code sg} (already filled with the buffers' pages) on port {@code
     * ap}: what the block and SCSI layers end in, {@code ata_qc_issue}. Tags go round the 31 slots.
     *
     * @return 0, or the command's error mask
     */
    public int readWrite(Libata.AtaPort ap, boolean write, long lba, ScatterList sg) {
        long bytes = 0;
        for (int i = 0; i < sg.nents(); i++) {
            bytes += sg.length(i);
        }
        if (bytes % Sil3132.SECTOR != 0) {
            throw new IllegalArgumentException("a transfer of " + bytes + " bytes is not whole sectors");
        }
        Libata.QueuedCmd qc = new Libata.QueuedCmd(ap, write, lba, (int) (bytes / Sil3132.SECTOR), sg);
        slots.put(qc, nextTag);
        nextTag = (nextTag + 1) % MAX_CMDS;
        try {
            return libata.ataQcIssue(qc);
        } finally {
            slots.remove(qc);
        }
    }

    private static void putLe(byte[] b, int off, long v, int n) {
        for (int i = 0; i < n; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }
}
