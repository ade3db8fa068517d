import { ForbiddenUrlError, isForbiddenAddress, parseSubscriberUrl, resolveAllowedAddresses } from './ssrf-guard';

const strict = { allowPrivate: false };

describe('SSRF guard', () => {
  it.each([
    '127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
    '100.100.100.200', '0.0.0.0', '224.0.0.1', '255.255.255.255', '192.0.2.10', '198.18.0.1',
    '::1', '::', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::127.0.0.1', 'fe80::1', 'fc00::1', 'fd00:ec2::254',
    'ff02::1', '64:ff9b::7f00:1', '64:ff9b::a00:1', '2002:7f00:1::', '2002:a9fe:a9fe::1', '2001:db8::1', '2001:0:4136:e378::1',
  ])('refuses %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])('allows %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });

  it.each([
    'http://2130706433/', 'http://0x7f000001/', 'http://127.1/', 'http://0177.0.0.1/', 'http://[::ffff:7f00:1]/', 'http://[::1]:8080/x',
    'http://169.254.169.254/latest/meta-data/', 'https://[fd00:ec2::254]/', 'http://0/',
  ])('refuses the URL %s at creation', (url) => {
    expect(() => parseSubscriberUrl(url, strict)).toThrow(ForbiddenUrlError);
  });

  it.each(['ftp://example.com/', 'file:///etc/passwd', 'http://user:pass@example.com/', 'not a url', 'javascript:alert(1)'])('refuses the malformed or credentialed URL %s', (url) => {
    expect(() => parseSubscriberUrl(url, strict)).toThrow(/url must/);
  });

  it('allows loopback URLs when private URLs are allowed', () => {
    expect(parseSubscriberUrl('http://127.0.0.1:4000/hook', { allowPrivate: true }).port).toBe('4000');
  });

  it('refuses a name that resolves to loopback', async () => {
    await expect(resolveAllowedAddresses('localhost', strict)).rejects.toThrow(/resolves to a private/);
  });

  it('refuses a name when one of several answers is private', async () => {
    const lookup = async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.1.2.3', family: 4 }];
    await expect(resolveAllowedAddresses('mixed.example', strict, lookup)).rejects.toThrow(/10\.1\.2\.3/);
  });

  it('passes a name whose answers are all public', async () => {
    const lookup = async () => [{ address: '93.184.216.34', family: 4 }];
    await expect(resolveAllowedAddresses('public.example', strict, lookup)).resolves.toEqual([{ address: '93.184.216.34', family: 4 }]);
  });
});
