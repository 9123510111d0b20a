import { describe, expect, it } from 'vitest';
import { signInLinkIn } from './signInLink.ts';

describe('sign-in links', () => {
  it('reads a UserSig and its user, in either order, with the UserSig alphabet kept as it is', () => {
    expect(signInLinkIn('#usersig=eJy*ab-c_d__&user=bob')).toEqual({ usersig: 'eJy*ab-c_d__', user: 'bob' });
    expect(signInLinkIn('#user=a.b%40c&usersig=x')).toEqual({ usersig: 'x', user: 'a.b@c' });
  });

  it('reads an app token, a + in it kept, and the user it names', () => {
    expect(signInLinkIn('#app-token=ab+c.d')).toEqual({ appToken: 'ab+c.d', user: null });
    const token = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ iss: 'parley-app', sub: 'erin' })).toString('base64url')}.c2ln`;
    expect(signInLinkIn(`#app-token=${token}`)).toEqual({ appToken: token, user: 'erin' });
  });

  it('finds none in an empty or unrelated fragment, or a UserSig without its user', () => {
    for (const hash of ['', '#', '#top', '#usersig=abc', '#user=bob', '#usersig=&user=bob', '#app-token=', '#app-token=%E0%A4%A']) expect(signInLinkIn(hash), hash).toBeNull();
  });
});
