/**
 * The value the CDK stack creates the 1fichier key secret with. The relay recognises it and refuses to
 * use it ("set the key first") instead of sending it to 1fichier, which would answer 401 and, repeated,
 * could ban the IP. Not a secret: it is in the template and in this file on purpose.
 */
export const FICHIER_KEY_PLACEHOLDER = 'SET-ME: put your 1fichier API key here with put-secret-value';
