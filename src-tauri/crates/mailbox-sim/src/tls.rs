//! A throw-away certificate authority and a `localhost` / 127.0.0.1 server certificate for the
//! SMTP submission port's STARTTLS. webpki refuses a self-signed certificate that is its own
//! CA (`CaUsedAsEndEntity`), so the server gets a leaf signed by a small CA, and clients are given
//! the CA to trust ([`crate::MailboxSim::smtp_ca_pem`]).

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType};

/// CA and leaf, generated in memory at start.
#[derive(Clone)]
pub struct TestPki {
    pub ca_pem: String,
    leaf_key_der: Vec<u8>,
    leaf_der: Vec<u8>,
}

impl TestPki {
    pub fn generate() -> Result<Self, rcgen::Error> {
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.distinguished_name.push(DnType::CommonName, "so-outbox simulator CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca, ca_key);

        let leaf_key = KeyPair::generate()?;
        let mut leaf = CertificateParams::new(vec!["localhost".to_string()])?;
        leaf.subject_alt_names.push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
        leaf.distinguished_name.push(DnType::CommonName, "localhost");
        leaf.is_ca = IsCa::ExplicitNoCa;
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;
        Ok(TestPki { ca_pem: ca_cert.pem(), leaf_key_der: leaf_key.serialize_der(), leaf_der: leaf_cert.der().to_vec() })
    }

    /// A rustls server configuration presenting the leaf certificate.
    pub fn server_config(&self) -> std::io::Result<Arc<rustls::ServerConfig>> {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(self.leaf_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key_der.clone())),
            )
            .map_err(std::io::Error::other)?;
        Ok(Arc::new(config))
    }
}
