// Command words for the shell detector. Strong words are rarely anything but a command (whoami, wget, nc);
// weak words are also ordinary English or common names (cat, id, type, sort), so they count only with an
// argument shaped like one. Lists are ours, gathered from what command-injection payloads run.

const set = (s: string) => new Set(s.split(/\s+/).filter(Boolean));

export const STRONG_UNIX = set(`
  whoami uname ifconfig netstat nslookup wget curl nc ncat netcat socat bash sh zsh ksh dash csh tcsh ash fish
  python python2 python3 perl ruby php lua node busybox chmod chown chgrp crontab useradd usermod userdel
  groupadd passwd telnet tftp nohup sudo mkfifo mknod xterm base64 xxd hexdump lsb_release getent iptables
  nmap traceroute tcpdump systemctl service insmod rmmod modprobe lsmod dmesg ldd strace ltrace gcc cc make
  wget2 fetch lynx aria2c rsync scp sftp openssl gpg pkill killall shutdown reboot halt poweroff init
  setsid chattr lsattr visudo su doas pkexec rbash pwsh whereis which printenv uptime lscpu lsblk lsof
  hostnamectl timeout stdbuf expect awk gawk mawk nawk sed tee xargs dd gdb c89 c99 vim flock cpulimit
  ionice taskset lwp-download lwp-request wget zip7 7z nmap
`);

export const WEAK_UNIX = set(`
  cat tac id ls dir pwd echo printf kill ps rm rmdir cp mv touch mkdir ln find head tail more less sort uniq cut
  paste env set unset export exec eval source alias grep egrep fgrep ping dig host whois ftp ssh tar zip
  unzip gzip gunzip bzip2 nl od strings rev diff file stat df du last w who history date time sleep wc tr
  test read wait jobs fg bg cd chroot mount umount free top vi vim nano ed emacs man info locate updatedb
  yes true false false seq shuf split join fold fmt column look join logger mail sendmail
`);

const UNIX = new Set([...STRONG_UNIX, ...WEAK_UNIX]);
/** Windows words not already Unix ones, so one command scores once. */
const windowsOnly = (s: string) => new Set([...set(s)].filter((w) => !UNIX.has(w)));

export const STRONG_WINDOWS = windowsOnly(`
  cmd powershell pwsh certutil bitsadmin wmic whoami ipconfig systeminfo tasklist taskkill netsh nslookup
  mshta rundll32 regsvr32 cscript wscript msiexec schtasks vssadmin bcdedit wevtutil icacls cacls takeown
  reg regedit sc net net1 nltest dsquery csvde ldifde quser qwinsta psexec procdump mimikatz ntdsutil
  invoke-expression iex invoke-webrequest iwr invoke-restmethod irm start-process new-object
  invoke-command set-mppreference add-mppreference get-wmiobject gwmi invoke-wmimethod downloadstring
  downloadfile start-bitstransfer curl wget forfiles pcalua installutil regasm regsvcs msbuild cmstp
  odbcconf ieexec mavinject control explorer hh infdefaultinstall presentationhost
`);

export const WEAK_WINDOWS = windowsOnly(`
  type dir echo copy xcopy robocopy del erase move ren rename md mkdir rd rmdir set ping ver vol find findstr
  more sort start call tree attrib path cls exit title assoc ftype timeout where hostname systeminfo
  get-content gc get-childitem gci ls cat get-process gps stop-process get-service get-item remove-item
  write-output echo set-content add-content out-file select-string sls invoke-item
`);
