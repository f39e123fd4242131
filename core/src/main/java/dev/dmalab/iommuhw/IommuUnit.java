package dev.dmalab.iommuhw;

import dev.dmalab.util.SimClock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One IOMMU (a VT-d DMAR unit, an SMMUv3): the context of each device behind it, the domains' tables, one IOTLB,
 * and the fault log. A translated access is looked up in the IOTLB first, else walked in the tables (and the walk
 * cached); an access with no entry, or one the entry does not permit, does not touch memory and becomes an {@link
 * IommuFault}. An access served by an IOTLB entry whose table entry the kernel has already cleared — possible until
 * the invalidation, in lazy mode — succeeds and is counted as stale.
 *
 * <p>Deliberate differences: faults are recorded, never reported by interrupt, and the log is unbounded (VT-d keeps
 * a small fault-record ring and drops on overflow); no ATS/PRI, no PASIDs, no nested translation.
 */
public final class IommuUnit {
    private final String name;
    private final int granuleShift;
    private final int inputAddressBits;
    private final SimClock clock;
    private final Iotlb iotlb = new Iotlb();
    private final Map<String, IommuContext> contexts = new LinkedHashMap<>();
    private final List<IommuFault> faults = new ArrayList<>();
    private int nextDomainId = 1;
    private long staleAccesses;
    private long translations;

    /**
     * @param name the unit's name ("dmar0", "smmu3.0")
     * @param granuleShift the smallest page size as a shift (12 for 4 KiB)
     * @param inputAddressBits the domains' input address width (VT-d AGAW, SMMU IAS): 39 on QEMU's default q35
     * @param clock simulated time, stamped on faults
     */
    public IommuUnit(String name, int granuleShift, int inputAddressBits, SimClock clock) {
        if (inputAddressBits < 32 || inputAddressBits > 64) {
            throw new IllegalArgumentException("input address width must be 32..64 bits, got " + inputAddressBits);
        }
        this.name = name;
        this.granuleShift = granuleShift;
        this.inputAddressBits = inputAddressBits;
        this.clock = clock;
    }

    public String name() {
        return name;
    }

    public int granuleShift() {
        return granuleShift;
    }

    public int inputAddressBits() {
        return inputAddressBits;
    }

    /** The highest IOVA a domain can translate ({@code aperture_end}): {@code 2^bits - 1}. */
    public long apertureEnd() {
        return inputAddressBits == 64 ? -1L : (1L << inputAddressBits) - 1;
    }

    /** Allocates the tables of a new domain (its id tags its IOTLB entries). */
    public IoPageTable newDomainTable() {
        return new IoPageTable(nextDomainId++, granuleShift);
    }

    /** The device's context, created (blocked) on first use. */
    public IommuContext context(String device) {
        return contexts.computeIfAbsent(device, d -> new IommuContext(this, d, IommuContext.Kind.BLOCKED, null));
    }

    public Iotlb iotlb() {
        return iotlb;
    }

    long translate(IommuContext ctx, long iova, boolean write) {
        translations++;
        switch (ctx.kind()) {
            case PASSTHROUGH:
                return iova;
            case BLOCKED:
                return fault(ctx, iova, write, IommuFault.Reason.BLOCKED);
            default:
                break;
        }
        if (inputAddressBits < 64 && (iova >>> inputAddressBits) != 0) {
            return fault(ctx, iova, write, IommuFault.Reason.ADDRESS_SIZE);
        }
        IoPageTable t = ctx.table();
        long pfn = iova >>> t.granuleShift();
        long e = iotlb.lookup(t.id(), pfn);
        if (e == -1) {
            e = t.entry(pfn);
            if (e == -1) {
                return fault(ctx, iova, write, IommuFault.Reason.NOT_PRESENT);
            }
            iotlb.fill(t.id(), pfn, e);
        } else if (t.entry(pfn) != e) {
            staleAccesses++;
        }
        int prot = IoPageTable.entryProt(e);
        if ((prot & (write ? IoPageTable.WRITE : IoPageTable.READ)) == 0) {
            return fault(ctx, iova, write, IommuFault.Reason.PERMISSION);
        }
        return t.entryPhys(e, iova);
    }

    private long fault(IommuContext ctx, long iova, boolean write, IommuFault.Reason reason) {
        faults.add(new IommuFault(ctx.device(), iova, write, reason, clock.nowNs()));
        return -1;
    }

    /** Page-selective invalidation of {@code sizeBytes} from {@code iova} in {@code table}'s domain. */
    public void invalidateRange(IoPageTable table, long iova, long sizeBytes) {
        long first = iova >>> table.granuleShift();
        long last = (iova + sizeBytes - 1) >>> table.granuleShift();
        iotlb.invalidateRange(table.id(), first, last - first + 1);
    }

    /** Domain-selective invalidation ({@code flush_iotlb_all}). */
    public void invalidateAll(IoPageTable table) {
        iotlb.invalidateDomain(table.id());
    }

    /** Faults so far, oldest first. */
    public List<IommuFault> faults() {
        return Collections.unmodifiableList(faults);
    }

    /** Accesses that reached memory through an IOTLB entry the tables no longer hold (use after unmap). */
    public long staleAccesses() {
        return staleAccesses;
    }

    public long translations() {
        return translations;
    }
}
