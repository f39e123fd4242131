package dev.dmalab.driver;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaApi;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.kernel.KernelFunction;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The parts of libata ({@code drivers/ata/libata-core.c}) on a SATA controller's DMA path: starting the host's
 * ports ({@code ata_host_activate} → {@code ata_host_start} → {@code ->port_start}), and issuing a command: {@code
 * ata_qc_issue} maps the data ({@code ata_sg_setup}, inlined: {@code dma_map_sg}), has the driver prepare and issue
 * it, and on completion unmaps it ({@code __ata_qc_complete} → {@code ata_sg_clean}, inlined: {@code dma_unmap_sg}
 * with the original entry count). No sync call is made anywhere on this path.
 *
 * <p>Deliberate differences: no interrupts, EH, SCSI layer or NCQ; a command completes synchronously when the
 * controller has executed it; the seed's {@code ata_host_start.part.10} (a GCC split clone) is named {@code
 * ata_host_start}.
 */
public final class Libata {
    /** What a low-level driver provides ({@code struct ata_port_operations}). */
    public interface PortOps {
        /** {@code ->port_start}: 0 or a negative errno. */
        int portStart(AtaPort ap);

        /** {@code ->qc_prep}. */
        void qcPrep(QueuedCmd qc);

        /** {@code ->qc_issue}: 0, or an error mask. */
        int qcIssue(QueuedCmd qc);
    }

    /** {@code struct ata_host}. */
    public static final class AtaHost {
        private final Device dev;
        private final PortOps ops;
        private final List<AtaPort> ports = new ArrayList<>();
        private boolean started;

        public AtaHost(Device dev, int nPorts, PortOps ops) {
            this.dev = dev;
            this.ops = ops;
            for (int i = 0; i < nPorts; i++) {
                ports.add(new AtaPort(this, i));
            }
        }

        public Device dev() {
            return dev;
        }

        public List<AtaPort> ports() {
            return Collections.unmodifiableList(ports);
        }

        public boolean started() {
            return started;
        }
    }

    /** {@code struct ata_port}, with the driver's private data. */
    public static final class AtaPort {
        private final AtaHost host;
        private final int portNo;
        private Object privateData;

        AtaPort(AtaHost host, int portNo) {
            this.host = host;
            this.portNo = portNo;
        }

        public AtaHost host() {
            return host;
        }

        public int portNo() {
            return portNo;
        }

        public Object privateData() {
            return privateData;
        }

        public void setPrivateData(Object data) {
            this.privateData = data;
        }
    }

    /**
     * {@code struct ata_queued_cmd}: an LBA48 DMA read or write of {@code sectors} 512-byte sectors through the
     * scatterlist {@code sg}.
     */
    public static final class QueuedCmd {
        private final AtaPort ap;
        private final boolean write;
        private final long lba;
        private final int sectors;
        private final ScatterList sg;
        private final int origNents;
        private int nElem;
        private int errMask;

        public QueuedCmd(AtaPort ap, boolean write, long lba, int sectors, ScatterList sg) {
            this.ap = ap;
            this.write = write;
            this.lba = lba;
            this.sectors = sectors;
            this.sg = sg;
            this.origNents = sg.nents();
        }

        public AtaPort port() {
            return ap;
        }

        public boolean write() {
            return write;
        }

        public long lba() {
            return lba;
        }

        public int sectors() {
            return sectors;
        }

        public ScatterList sg() {
            return sg;
        }

        /** Mapped entries ({@code qc->n_elem} after {@code dma_map_sg}). */
        public int nElem() {
            return nElem;
        }

        /** 0 when the command succeeded. */
        public int errMask() {
            return errMask;
        }

        public Direction dmaDir() {
            return write ? Direction.TO_DEVICE : Direction.FROM_DEVICE;
        }
    }

    /** {@code AC_ERR_SYSTEM}: the mapping failed. */
    public static final int AC_ERR_SYSTEM = 1 << 6;

    private final DmaApi dma;

    public Libata(DmaApi dma) {
        this.dma = dma;
    }

    /** {@code ata_host_activate(host, irq, handler, flags, sht)}: start the ports (irq and registration not modelled). */
    @KernelFunction("ata_host_activate")
    public int ataHostActivate(AtaHost host) {
        if (host.started) {
            return 0; // the early return GCC inlines into the caller (ata_host_start.part.N holds the rest)
        }
        return ataHostStart(host);
    }

    @KernelFunction("ata_host_start")
    private int ataHostStart(AtaHost host) {
        for (AtaPort ap : host.ports) {
            int rc = host.ops.portStart(ap);
            if (rc != 0) {
                return rc;
            }
        }
        host.started = true;
        return 0;
    }

    /** {@code ata_qc_issue}: map, prepare, issue; the completion runs before this returns. */
    @KernelFunction("ata_qc_issue")
    public int ataQcIssue(QueuedCmd qc) {
        Device dev = qc.ap.host.dev;
        PortOps ops = qc.ap.host.ops;
        if (!ataSgSetup(dev, qc)) {
            qc.errMask |= AC_ERR_SYSTEM;
            return qc.errMask;
        }
        ops.qcPrep(qc);
        qc.errMask |= ops.qcIssue(qc);
        ataQcComplete(dev, qc);
        return qc.errMask;
    }

    @KernelFunction(value = "ata_sg_setup", inline = true)
    private boolean ataSgSetup(Device dev, QueuedCmd qc) {
        int n = dma.mapSgAttrs(dev, qc.sg, qc.origNents, qc.dmaDir(), 0);
        if (n < 1) {
            return false;
        }
        qc.nElem = n;
        return true;
    }

    @KernelFunction("__ata_qc_complete")
    private void ataQcComplete(Device dev, QueuedCmd qc) {
        ataSgClean(dev, qc);
    }

    @KernelFunction(value = "ata_sg_clean", inline = true)
    private void ataSgClean(Device dev, QueuedCmd qc) {
        if (qc.nElem != 0) {
            dma.unmapSgAttrs(dev, qc.sg, qc.origNents, qc.dmaDir(), 0);
        }
        qc.nElem = 0;
    }
}
