; Nimbus guest boot sector: the project's own boot image, built from this source by the rig.
;
; A 512-byte BIOS boot sector (real mode, loaded at 0000:7C00) that prints one banner line to
; the VGA screen (int 10h teletype, seen through the VNC console) and to COM1 (seen in a libvirt
; <serial type='file'> log), then halts. It is a test guest: it must never touch a disk, the
; network or anything past its own 512 bytes, so booting it proves the host's plumbing and
; nothing else. Assemble with: nasm -f bin -o boot.bin boot.asm
;
; The banner text is mirrored by BOOT_BANNER in ../boot-image.ts; a spec keeps the two equal.

bits 16
org 0x7c00

COM1       equ 0x3f8
COM1_LSR   equ COM1 + 5            ; line status register
LSR_THRE   equ 0x20                ; transmit holding register empty

start:
    cli
    xor ax, ax                     ; BIOSes disagree on CS:IP and segments at entry: set our own
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00                 ; stack grows down below the boot sector
    sti
    cld

    call serial_init
    mov si, banner
.next_char:
    lodsb
    test al, al
    jz .halt
    call screen_putc
    call serial_putc
    jmp .next_char

.halt:
    cli                            ; nothing left to do: sleep, and sleep again after any NMI
    hlt
    jmp .halt

; COM1 at 115200 baud, 8 data bits, no parity, 1 stop bit, FIFOs on, no interrupts.
; QEMU's UART forwards bytes whatever the settings; real hardware and other emulators need them.
serial_init:
    mov dx, COM1 + 1
    xor al, al
    out dx, al                     ; IER: no interrupts, we poll
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al                     ; LCR: DLAB on, to set the divisor
    mov dx, COM1
    mov al, 1
    out dx, al                     ; divisor low byte: 115200 / 1
    inc dx
    xor al, al
    out dx, al                     ; divisor high byte
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al                     ; LCR: 8N1, DLAB off
    mov dx, COM1 + 2
    mov al, 0xc7
    out dx, al                     ; FCR: enable and clear FIFOs
    ret

; al = character; preserves all registers.
screen_putc:
    pusha
    mov ah, 0x0e                   ; teletype output: advances the cursor, handles CR and LF
    mov bx, 0x0007                 ; page 0, light grey
    int 0x10
    popa
    ret

; al = character; preserves all registers.
serial_putc:
    pusha
    mov bl, al
    mov dx, COM1_LSR
.wait:
    in al, dx
    test al, LSR_THRE
    jz .wait
    mov dx, COM1
    mov al, bl
    out dx, al
    popa
    ret

banner: db 'Nimbus guest booted', 13, 10, 0

    times 510 - ($ - $$) db 0
    dw 0xaa55                      ; the BIOS boots a sector only if it ends with this signature
